using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>One SMMUv3 instance as the IOMMU layer sees it.</summary>
public sealed class SmmuUnit : IommuUnit
{
    internal SmmuUnit(string name, SmmuV3Driver driver)
        : base(name) => Driver = driver;

    /// <summary>The driver of the unit.</summary>
    public SmmuV3Driver Driver { get; }

    /// <summary>The hardware model.</summary>
    public SmmuV3Hardware Hardware => Driver.Hardware;
}
