using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>One SMMUv3 instance as the IOMMU layer sees it.</summary>
public sealed class SmmuUnit : IommuUnit
{
    internal SmmuUnit(string name, SmmuV3Hardware hardware)
        : base(name) => Hardware = hardware;

    /// <summary>The hardware model.</summary>
    public SmmuV3Hardware Hardware { get; }
}
