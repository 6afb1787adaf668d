using System;

namespace Ioasid.Core.Iommu;

/// <summary>The protection of a mapping as the IOMMU layer sees it (<c>IOMMU_READ</c>, <c>IOMMU_WRITE</c>, …).</summary>
[Flags]
public enum IommuProt
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>IOMMU_READ: the device may read.</summary>
    Read = 1 << 0,

    /// <summary>IOMMU_WRITE: the device may write.</summary>
    Write = 1 << 1,

    /// <summary>IOMMU_CACHE: DMA is cache coherent (snooped). iommufd always sets it.</summary>
    Cache = 1 << 2,

    /// <summary>IOMMU_NOEXEC: instruction fetch is not allowed.</summary>
    NoExec = 1 << 3,

    /// <summary>IOMMU_MMIO: the target is device memory.</summary>
    Mmio = 1 << 4,

    /// <summary>IOMMU_PRIV: privileged accesses only.</summary>
    Priv = 1 << 5,
}
