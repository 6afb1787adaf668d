using System;

namespace Ioasid.Core.Iommu;

/// <summary>
/// The kernel's domain type: a bit mask of features (<c>__IOMMU_DOMAIN_*</c>). The named combinations below are
/// the types the core uses.
/// </summary>
[Flags]
public enum IommuDomainType
{
    /// <summary>BLOCKED: all DMA is refused.</summary>
    Blocked = 0,

    /// <summary>Feature bit: the domain has a page table that map/unmap change.</summary>
    Paging = 1 << 0,

    /// <summary>Feature bit: the domain serves the kernel DMA API.</summary>
    DmaApi = 1 << 1,

    /// <summary>Feature bit / IDENTITY: IOVA equals the physical address.</summary>
    Identity = 1 << 2,

    /// <summary>Feature bit: invalidation is deferred to a flush queue.</summary>
    DmaFq = 1 << 3,

    /// <summary>Feature bit / SVA: the domain shares a process's CPU page table.</summary>
    Sva = 1 << 4,

    /// <summary>Feature bit / NESTED: a user-owned stage-1 configuration over a kernel-owned stage-2 parent.</summary>
    Nested = 1 << 6,

    /// <summary>UNMANAGED: a paging domain owned by a user such as iommufd or VFIO.</summary>
    Unmanaged = Paging,

    /// <summary>DMA: the kernel's default paging domain.</summary>
    Dma = Paging | DmaApi,
}
