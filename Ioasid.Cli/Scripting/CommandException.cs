using System;

namespace Ioasid.Cli.Scripting;

/// <summary>A script line that cannot be run as written (unknown command, bad argument). Not an IOMMU error.</summary>
internal sealed class CommandException(string message) : Exception(message);
