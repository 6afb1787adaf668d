namespace Ioasid.Core.Iommu;

/// <summary>
/// A driver's operations table (the kernel's <c>struct iommu_ops</c>). Required members are
/// <see cref="ProbeDevice"/> and <see cref="DeviceGroup"/>; every other member may be null, and the core then
/// behaves as the kernel does for a NULL op (drivers.md §1.2). Drivers normally get this table from the
/// generator: mark a partial class <c>[IommuDriver]</c> and its methods <c>[IommuOp(...)]</c>.
/// </summary>
public sealed class IommuOps
{
    /// <summary>The driver's name, e.g. <c>intel-iommu</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>probe_device</c> (required).</summary>
    public required ProbeDeviceOp ProbeDevice { get; init; }

    /// <summary><c>device_group</c> (required).</summary>
    public required DeviceGroupOp DeviceGroup { get; init; }

    /// <summary><c>release_device</c>; null: nothing to free.</summary>
    public ReleaseDeviceOp? ReleaseDevice { get; init; }

    /// <summary><c>capable</c>; null: every capability is absent.</summary>
    public CapableOp? Capable { get; init; }

    /// <summary><c>hw_info</c>; null: IOMMU_GET_HW_INFO reports type NONE with no data.</summary>
    public HwInfoOp? HwInfo { get; init; }

    /// <summary><c>get_resv_regions</c>; null: the device has no reserved regions.</summary>
    public GetResvRegionsOp? GetResvRegions { get; init; }

    /// <summary><c>domain_alloc_paging</c>; a driver provides this or <see cref="DomainAllocPagingFlags"/>.</summary>
    public DomainAllocPagingOp? DomainAllocPaging { get; init; }

    /// <summary><c>domain_alloc_paging_flags</c>; null with flags or data asked for: EOPNOTSUPP.</summary>
    public DomainAllocPagingFlagsOp? DomainAllocPagingFlags { get; init; }

    /// <summary><c>domain_alloc_identity</c>; used only when <see cref="IdentityDomain"/> is null.</summary>
    public DomainAllocIdentityOp? DomainAllocIdentity { get; init; }

    /// <summary><c>domain_alloc_nested</c>; null: a nested HWPT over a paging parent is EOPNOTSUPP.</summary>
    public DomainAllocNestedOp? DomainAllocNested { get; init; }

    /// <summary><c>domain_alloc_sva</c>; null: SVA bind is EOPNOTSUPP.</summary>
    public DomainAllocSvaOp? DomainAllocSva { get; init; }

    /// <summary>The static identity domain; null: <see cref="DomainAllocIdentity"/> or no identity support.</summary>
    public IommuDomain? IdentityDomain { get; init; }

    /// <summary>The static blocking domain; null: the core blocks with an empty paging domain, and PASID attach is EOPNOTSUPP.</summary>
    public IommuDomain? BlockedDomain { get; init; }

    /// <summary>The domain attached just before <c>release_device</c>.</summary>
    public IommuDomain? ReleaseDomain { get; init; }

    /// <summary>The domain ops given to allocated domains that did not set their own.</summary>
    public DomainOps? DefaultDomainOps { get; init; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
