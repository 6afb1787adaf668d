namespace Ioasid.Core.Iommu;

/// <summary>
/// One IOMMU hardware instance as its driver sees it (the kernel's <c>struct iommu_device</c>): a VT-d DRHD unit,
/// an SMMUv3 instance, a mock. A driver's <c>probe_device</c> op returns the unit that translates the device.
/// Drivers derive from it to keep per-unit state (domain-id allocators, queues, the hardware model).
/// </summary>
public abstract class IommuUnit
{
    /// <summary>Creates a unit named <paramref name="name"/>.</summary>
    protected IommuUnit(string name) => Name = name;

    /// <summary>A name for listings, e.g. <c>dmar0</c> or <c>smmu0</c>.</summary>
    public string Name { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
