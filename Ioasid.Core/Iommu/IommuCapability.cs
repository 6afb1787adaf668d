namespace Ioasid.Core.Iommu;

/// <summary>The per-device capabilities a driver's <c>capable</c> op answers (<c>enum iommu_cap</c>).</summary>
public enum IommuCapability
{
    /// <summary>IOMMU_CAP_CACHE_COHERENCY: IOMMU_CACHE is honoured.</summary>
    CacheCoherency,

    /// <summary>IOMMU_CAP_NOEXEC: IOMMU_NOEXEC is honoured.</summary>
    NoExec,

    /// <summary>IOMMU_CAP_PRE_BOOT_PROTECTION: firmware kept DMA blocked before the OS took over.</summary>
    PreBootProtection,

    /// <summary>IOMMU_CAP_ENFORCE_CACHE_COHERENCY: <c>enforce_cache_coherency</c> can work for this device.</summary>
    EnforceCacheCoherency,

    /// <summary>IOMMU_CAP_DEFERRED_FLUSH: unmap does not itself invalidate, so a flush queue helps.</summary>
    DeferredFlush,

    /// <summary>IOMMU_CAP_DIRTY_TRACKING: the IOMMU can record written pages.</summary>
    DirtyTracking,
}
