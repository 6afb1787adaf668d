using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Cli.Scripting;

// The SVA family's state: the bonds of the session's process, by device name.
internal sealed partial class Session
{
    /// <summary>SVA bonds of the session's process, by device name.</summary>
    public Dictionary<string, IommuSva> SvaBonds { get; } = new();
}
