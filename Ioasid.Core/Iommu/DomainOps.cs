namespace Ioasid.Core.Iommu;

/// <summary>
/// A domain's operations table (the kernel's <c>struct iommu_domain_ops</c> with <c>iommu_dirty_ops</c>). A null
/// member is an absent op and the core does what the kernel does for NULL (drivers.md §1.3): e.g. no
/// <see cref="IotlbSync"/> means nothing to flush, no <see cref="EnforceCacheCoherency"/> means "cannot".
/// Drivers normally get this table from the generator: mark a domain class <c>[IommuDomainOps]</c> and its static
/// methods <c>[DomainOp(...)]</c>.
/// </summary>
public sealed class DomainOps
{
    /// <summary><c>attach_dev</c>: required for any domain a device can be attached to.</summary>
    public AttachDevOp? AttachDev { get; init; }

    /// <summary><c>set_dev_pasid</c>; null: the domain cannot be attached to a PASID (EOPNOTSUPP).</summary>
    public SetDevPasidOp? SetDevPasid { get; init; }

    /// <summary><c>map_pages</c>: required for paging domains.</summary>
    public MapPagesOp? MapPages { get; init; }

    /// <summary><c>unmap_pages</c>: required for paging domains.</summary>
    public UnmapPagesOp? UnmapPages { get; init; }

    /// <summary><c>flush_iotlb_all</c>; null: a full flush does nothing.</summary>
    public FlushIotlbAllOp? FlushIotlbAll { get; init; }

    /// <summary><c>iotlb_sync_map</c>; null: new mappings need no sync.</summary>
    public IotlbSyncMapOp? IotlbSyncMap { get; init; }

    /// <summary><c>iotlb_sync</c>; null: the gather is simply reset.</summary>
    public IotlbSyncOp? IotlbSync { get; init; }

    /// <summary><c>iova_to_phys</c>: the core answers identity and blocked domains itself.</summary>
    public IovaToPhysOp? IovaToPhys { get; init; }

    /// <summary><c>enforce_cache_coherency</c>; null: the domain cannot enforce it.</summary>
    public EnforceCacheCoherencyOp? EnforceCacheCoherency { get; init; }

    /// <summary><c>cache_invalidate_user</c>; null: IOMMU_HWPT_INVALIDATE on the domain is EOPNOTSUPP.</summary>
    public CacheInvalidateUserOp? CacheInvalidateUser { get; init; }

    /// <summary><c>free</c>: required for allocated domains; static domains are never freed.</summary>
    public FreeDomainOp? Free { get; init; }

    /// <summary><c>set_dirty_tracking</c> (dirty ops); null: dirty tracking is unsupported.</summary>
    public SetDirtyTrackingOp? SetDirtyTracking { get; init; }

    /// <summary><c>read_and_clear_dirty</c> (dirty ops).</summary>
    public ReadAndClearDirtyOp? ReadAndClearDirty { get; init; }

    /// <summary>Whether the dirty ops are present.</summary>
    public bool HasDirtyOps => SetDirtyTracking is not null && ReadAndClearDirty is not null;
}
