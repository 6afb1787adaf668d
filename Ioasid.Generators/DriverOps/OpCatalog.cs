using System.Collections.Immutable;

namespace Ioasid.Generators.DriverOps;

/// <summary>What kind of member fills a table entry.</summary>
internal enum OpShape
{
    /// <summary>A method converted to the entry's delegate type.</summary>
    Method,

    /// <summary>A property of type <c>IommuDomain</c> (or a subclass): a static domain of the driver.</summary>
    DomainProperty,

    /// <summary>A property of type <c>DomainOps</c>.</summary>
    DomainOpsProperty,
}

/// <summary>Whether the core can do without an entry (drivers.md §1.2–1.3).</summary>
internal enum OpRequirement
{
    /// <summary>May be absent; the core then does what <see cref="OpSpec.AbsentNote"/> says.</summary>
    Optional,

    /// <summary>Every table must have it.</summary>
    Required,

    /// <summary>Required for paging domains (<c>[IommuDomainOps(Paging = true)]</c>).</summary>
    RequiredForPaging,
}

/// <summary>
/// One entry of <c>IommuOps</c> or <c>DomainOps</c>.
/// </summary>
/// <param name="Member">The enum member name, which is also the table property name (e.g. <c>ProbeDevice</c>).</param>
/// <param name="KernelName">The kernel's field name (e.g. <c>probe_device</c>).</param>
/// <param name="DelegateName">The delegate type in <c>Ioasid.Core.Iommu</c> of a <see cref="OpShape.Method"/> entry.</param>
/// <param name="Shape">What kind of member fills the entry.</param>
/// <param name="Requirement">Whether the entry may be absent.</param>
/// <param name="AbsentNote">What the core does when the entry is null, written after <c>// absent:</c> in the generated table.</param>
internal sealed record OpSpec(string Member, string KernelName, string? DelegateName, OpShape Shape, OpRequirement Requirement, string AbsentNote)
{
    /// <summary>E.g. <c>ProbeDevice (probe_device)</c>.</summary>
    public string Display => $"{Member} ({KernelName})";
}

/// <summary>
/// The entries of the two tables, in the order of <c>Ioasid.IommuOpKind</c> and <c>Ioasid.DomainOpKind</c>: an
/// attribute's enum value is an index into these lists (a test keeps them in step with the enums). The generator
/// never loads the runtime assemblies, so the facts about each op live here.
/// </summary>
internal static class OpCatalog
{
    public const string CoreNamespace = "Ioasid.Core.Iommu";
    public const string IommuOpsMetadataName = CoreNamespace + ".IommuOps";
    public const string DomainOpsMetadataName = CoreNamespace + ".DomainOps";
    public const string IommuDomainMetadataName = CoreNamespace + ".IommuDomain";

    public static readonly ImmutableArray<OpSpec> IommuOps = ImmutableArray.Create(
        new OpSpec("ProbeDevice", "probe_device", "ProbeDeviceOp", OpShape.Method, OpRequirement.Required,
            "required"),
        new OpSpec("ReleaseDevice", "release_device", "ReleaseDeviceOp", OpShape.Method, OpRequirement.Optional,
            "nothing to free when the device goes"),
        new OpSpec("DeviceGroup", "device_group", "DeviceGroupOp", OpShape.Method, OpRequirement.Required,
            "required"),
        new OpSpec("Capable", "capable", "CapableOp", OpShape.Method, OpRequirement.Optional,
            "every capability query answers false"),
        new OpSpec("HwInfo", "hw_info", "HwInfoOp", OpShape.Method, OpRequirement.Optional,
            "IOMMU_GET_HW_INFO reports type NONE with no data"),
        new OpSpec("GetResvRegions", "get_resv_regions", "GetResvRegionsOp", OpShape.Method, OpRequirement.Optional,
            "the device has no reserved regions"),
        new OpSpec("DomainAllocPaging", "domain_alloc_paging", "DomainAllocPagingOp", OpShape.Method, OpRequirement.Optional,
            "paging domains come from DomainAllocPagingFlags"),
        new OpSpec("DomainAllocPagingFlags", "domain_alloc_paging_flags", "DomainAllocPagingFlagsOp", OpShape.Method, OpRequirement.Optional,
            "asking for flags or driver data is EOPNOTSUPP"),
        new OpSpec("DomainAllocIdentity", "domain_alloc_identity", "DomainAllocIdentityOp", OpShape.Method, OpRequirement.Optional,
            "identity comes from IdentityDomain, or is unsupported"),
        new OpSpec("DomainAllocNested", "domain_alloc_nested", "DomainAllocNestedOp", OpShape.Method, OpRequirement.Optional,
            "a nested HWPT over a paging parent is EOPNOTSUPP"),
        new OpSpec("DomainAllocSva", "domain_alloc_sva", "DomainAllocSvaOp", OpShape.Method, OpRequirement.Optional,
            "SVA bind is EOPNOTSUPP"),
        new OpSpec("IdentityDomain", "identity_domain", null, OpShape.DomainProperty, OpRequirement.Optional,
            "DomainAllocIdentity is asked, else identity is unsupported"),
        new OpSpec("BlockedDomain", "blocked_domain", null, OpShape.DomainProperty, OpRequirement.Optional,
            "the core blocks with an empty paging domain; PASID attach is EOPNOTSUPP"),
        new OpSpec("ReleaseDomain", "release_domain", null, OpShape.DomainProperty, OpRequirement.Optional,
            "ReleaseDevice must leave the hardware blocking or identity itself"),
        new OpSpec("DefaultDomainOps", "default_domain_ops", null, OpShape.DomainOpsProperty, OpRequirement.Optional,
            "every allocated domain brings its own ops"));

    public static readonly ImmutableArray<OpSpec> DomainOps = ImmutableArray.Create(
        new OpSpec("AttachDev", "attach_dev", "AttachDevOp", OpShape.Method, OpRequirement.Required,
            "required"),
        new OpSpec("SetDevPasid", "set_dev_pasid", "SetDevPasidOp", OpShape.Method, OpRequirement.Optional,
            "the domain cannot be attached to a PASID (EOPNOTSUPP)"),
        new OpSpec("MapPages", "map_pages", "MapPagesOp", OpShape.Method, OpRequirement.RequiredForPaging,
            "not a paging domain; the core refuses to map"),
        new OpSpec("UnmapPages", "unmap_pages", "UnmapPagesOp", OpShape.Method, OpRequirement.RequiredForPaging,
            "not a paging domain; the core unmaps nothing"),
        new OpSpec("FlushIotlbAll", "flush_iotlb_all", "FlushIotlbAllOp", OpShape.Method, OpRequirement.Optional,
            "a full flush does nothing"),
        new OpSpec("IotlbSyncMap", "iotlb_sync_map", "IotlbSyncMapOp", OpShape.Method, OpRequirement.Optional,
            "new mappings need no sync"),
        new OpSpec("IotlbSync", "iotlb_sync", "IotlbSyncOp", OpShape.Method, OpRequirement.Optional,
            "the gather is simply reset"),
        new OpSpec("IovaToPhys", "iova_to_phys", "IovaToPhysOp", OpShape.Method, OpRequirement.RequiredForPaging,
            "the core answers identity and blocked domains itself"),
        new OpSpec("EnforceCacheCoherency", "enforce_cache_coherency", "EnforceCacheCoherencyOp", OpShape.Method, OpRequirement.Optional,
            "the domain cannot enforce cache coherency"),
        new OpSpec("CacheInvalidateUser", "cache_invalidate_user", "CacheInvalidateUserOp", OpShape.Method, OpRequirement.Optional,
            "IOMMU_HWPT_INVALIDATE on the domain is EOPNOTSUPP"),
        new OpSpec("Free", "free", "FreeDomainOp", OpShape.Method, OpRequirement.Optional,
            "the domain is never freed (a static domain)"),
        new OpSpec("SetDirtyTracking", "set_dirty_tracking", "SetDirtyTrackingOp", OpShape.Method, OpRequirement.Optional,
            "dirty tracking is unsupported"),
        new OpSpec("ReadAndClearDirty", "read_and_clear_dirty", "ReadAndClearDirtyOp", OpShape.Method, OpRequirement.Optional,
            "dirty tracking is unsupported"));

    /// <summary>Index of <c>IommuOpKind.DomainAllocPaging</c>.</summary>
    public static readonly int DomainAllocPaging = IndexOf(IommuOps, "DomainAllocPaging");

    /// <summary>Index of <c>IommuOpKind.DomainAllocPagingFlags</c>.</summary>
    public static readonly int DomainAllocPagingFlags = IndexOf(IommuOps, "DomainAllocPagingFlags");

    /// <summary>Index of <c>DomainOpKind.SetDirtyTracking</c>.</summary>
    public static readonly int SetDirtyTracking = IndexOf(DomainOps, "SetDirtyTracking");

    /// <summary>Index of <c>DomainOpKind.ReadAndClearDirty</c>.</summary>
    public static readonly int ReadAndClearDirty = IndexOf(DomainOps, "ReadAndClearDirty");

    private static int IndexOf(ImmutableArray<OpSpec> specs, string member)
    {
        for (var i = 0; i < specs.Length; i++)
        {
            if (specs[i].Member == member)
            {
                return i;
            }
        }

        return -1;
    }
}
