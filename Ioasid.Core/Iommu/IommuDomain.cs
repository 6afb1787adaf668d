using System;
using System.Numerics;
using System.Threading;

namespace Ioasid.Core.Iommu;

/// <summary>
/// A translation a device (or one PASID of a device) can be attached to: the kernel's <c>struct iommu_domain</c>.
/// A domain holds only its IO page table and what tags it in caches; PASID tables and CD tables are per-device
/// data and never live here. One paging domain may be attached to many devices and PASIDs at once. Drivers
/// derive from this class and give it a <see cref="DomainOps"/> table (usually a generated one).
/// </summary>
public abstract class IommuDomain
{
    private static long s_nextHandle;

    /// <summary>Creates a domain of <paramref name="type"/> whose operations are <paramref name="ops"/>.</summary>
    protected IommuDomain(IommuDomainType type, DomainOps ops)
        : this(type, ops, dirtyTracking: true)
    {
    }

    /// <summary>
    /// Creates a domain of <paramref name="type"/> whose operations are <paramref name="ops"/>; its dirty ops are in
    /// use only when <paramref name="dirtyTracking"/> is set (the kernel sets <c>domain-&gt;dirty_ops</c> only for a
    /// domain allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING).
    /// </summary>
    protected IommuDomain(IommuDomainType type, DomainOps ops, bool dirtyTracking)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Type = type;
        Ops = ops;
        HasDirtyOps = dirtyTracking && ops.HasDirtyOps;
        Handle = new DomainHandle((ulong)Interlocked.Increment(ref s_nextHandle));
    }

    /// <summary>An opaque handle naming the domain in listings and the uAPI model.</summary>
    public DomainHandle Handle { get; }

    /// <summary>The domain's type.</summary>
    public IommuDomainType Type { get; }

    /// <summary>The domain's operations.</summary>
    public DomainOps Ops { get; }

    /// <summary>
    /// The driver that allocated the domain (the kernel's <c>domain-&gt;owner</c>), set by the core after
    /// allocation; null for a driver's static blocked or identity domain, which any of its devices may use.
    /// </summary>
    public IommuOps? Owner { get; internal set; }

    /// <summary>Whether the domain tracks dirty pages (the kernel's <c>domain-&gt;dirty_ops</c> is set).</summary>
    public bool HasDirtyOps { get; }

    /// <summary>The page sizes the domain can map, one bit per size (<c>pgsize_bitmap</c>). Paging domains set it.</summary>
    public ulong PageSizeBitmap { get; protected set; }

    /// <summary>The IOVA window the domain translates.</summary>
    public DomainGeometry Geometry { get; protected set; } = DomainGeometry.FromInputBits(64);

    /// <summary>Whether the domain has a page table that map and unmap change.</summary>
    public bool IsPaging => (Type & IommuDomainType.Paging) != 0;

    /// <summary>The smallest page size the domain maps (the lowest bit of <see cref="PageSizeBitmap"/>), or 0.</summary>
    public ulong MinPageSize => PageSizeBitmap == 0 ? 0 : 1UL << BitOperations.TrailingZeroCount(PageSizeBitmap);

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name} {Handle} ({Type})";
}
