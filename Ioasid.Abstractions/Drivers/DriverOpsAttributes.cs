using System;

namespace Ioasid;

/// <summary>
/// Marks a <c>partial class</c> as an IOMMU driver. Ioasid's generator collects its <see cref="IommuOpAttribute"/>
/// members into an operations table (the kernel's <c>struct iommu_ops</c>), exposed as a generated
/// <c>Ops</c> property, and reports a missing required op, a duplicate op or a wrong signature at compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class IommuDriverAttribute : Attribute
{
    /// <summary>Declares the driver named <paramref name="name"/> (e.g. <c>intel-iommu</c>).</summary>
    public IommuDriverAttribute(string name) => Name = name;

    /// <summary>The driver's name.</summary>
    public string Name { get; }
}

/// <summary>
/// Marks a member of an <see cref="IommuDriverAttribute"/> class as one entry of its <c>iommu_ops</c>: an
/// instance method for an op, or a property for a static domain or the default domain ops.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property, Inherited = false, AllowMultiple = false)]
public sealed class IommuOpAttribute : Attribute
{
    /// <summary>Declares the member as the <paramref name="kind"/> entry.</summary>
    public IommuOpAttribute(IommuOpKind kind) => Kind = kind;

    /// <summary>Which entry of the table the member fills.</summary>
    public IommuOpKind Kind { get; }
}

/// <summary>
/// Marks a <c>partial class</c> deriving from the core's <c>IommuDomain</c> as a domain kind with its own
/// operations table (the kernel's <c>struct iommu_domain_ops</c>). The generator collects its
/// <see cref="DomainOpAttribute"/> static methods into a generated static <c>Ops</c> table.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class IommuDomainOpsAttribute : Attribute
{
    /// <summary>Whether the domain kind is a paging domain, for which map_pages, unmap_pages and iova_to_phys are required.</summary>
    public bool Paging { get; set; }
}

/// <summary>
/// Marks a static method of an <see cref="IommuDomainOpsAttribute"/> class as one entry of its
/// <c>iommu_domain_ops</c>. The method's first parameter is the domain class itself.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class DomainOpAttribute : Attribute
{
    /// <summary>Declares the method as the <paramref name="kind"/> op.</summary>
    public DomainOpAttribute(DomainOpKind kind) => Kind = kind;

    /// <summary>Which op the method implements.</summary>
    public DomainOpKind Kind { get; }
}

/// <summary>The entries of a driver's <c>iommu_ops</c> table.</summary>
public enum IommuOpKind
{
    /// <summary><c>probe_device</c> (required).</summary>
    ProbeDevice,

    /// <summary><c>release_device</c>.</summary>
    ReleaseDevice,

    /// <summary><c>device_group</c> (required).</summary>
    DeviceGroup,

    /// <summary><c>capable</c>.</summary>
    Capable,

    /// <summary><c>hw_info</c>.</summary>
    HwInfo,

    /// <summary><c>get_resv_regions</c>.</summary>
    GetResvRegions,

    /// <summary><c>domain_alloc_paging</c>.</summary>
    DomainAllocPaging,

    /// <summary><c>domain_alloc_paging_flags</c>.</summary>
    DomainAllocPagingFlags,

    /// <summary><c>domain_alloc_identity</c>.</summary>
    DomainAllocIdentity,

    /// <summary><c>domain_alloc_nested</c>.</summary>
    DomainAllocNested,

    /// <summary><c>domain_alloc_sva</c>.</summary>
    DomainAllocSva,

    /// <summary><c>identity_domain</c> (a property).</summary>
    IdentityDomain,

    /// <summary><c>blocked_domain</c> (a property).</summary>
    BlockedDomain,

    /// <summary><c>release_domain</c> (a property).</summary>
    ReleaseDomain,

    /// <summary><c>default_domain_ops</c> (a property).</summary>
    DefaultDomainOps,
}

/// <summary>The entries of a domain's <c>iommu_domain_ops</c> (and <c>iommu_dirty_ops</c>) table.</summary>
public enum DomainOpKind
{
    /// <summary><c>attach_dev</c> (required).</summary>
    AttachDev,

    /// <summary><c>set_dev_pasid</c>.</summary>
    SetDevPasid,

    /// <summary><c>map_pages</c> (required for paging domains).</summary>
    MapPages,

    /// <summary><c>unmap_pages</c> (required for paging domains).</summary>
    UnmapPages,

    /// <summary><c>flush_iotlb_all</c>.</summary>
    FlushIotlbAll,

    /// <summary><c>iotlb_sync_map</c>.</summary>
    IotlbSyncMap,

    /// <summary><c>iotlb_sync</c>.</summary>
    IotlbSync,

    /// <summary><c>iova_to_phys</c> (required for paging domains).</summary>
    IovaToPhys,

    /// <summary><c>enforce_cache_coherency</c>.</summary>
    EnforceCacheCoherency,

    /// <summary><c>cache_invalidate_user</c>.</summary>
    CacheInvalidateUser,

    /// <summary><c>free</c>.</summary>
    Free,

    /// <summary><c>set_dirty_tracking</c> (dirty ops).</summary>
    SetDirtyTracking,

    /// <summary><c>read_and_clear_dirty</c> (dirty ops).</summary>
    ReadAndClearDirty,
}
