namespace Ioasid.Core.Iommu;

/// <summary>The kinds of reserved region a driver reports for a device (<c>enum iommu_resv_type</c>).</summary>
public enum ReservedRegionType
{
    /// <summary>IOMMU_RESV_DIRECT: must be identity mapped (an RMRR).</summary>
    Direct,

    /// <summary>IOMMU_RESV_DIRECT_RELAXABLE: identity mapped by default, but may be dropped when a user owns the device.</summary>
    DirectRelaxable,

    /// <summary>IOMMU_RESV_RESERVED: never usable as IOVA.</summary>
    Reserved,

    /// <summary>IOMMU_RESV_MSI: a hardware MSI doorbell window, untranslated.</summary>
    Msi,

    /// <summary>IOMMU_RESV_SW_MSI: a window where software maps MSI doorbells.</summary>
    SwMsi,
}

/// <summary>One reserved IOVA region of a device (<c>struct iommu_resv_region</c>).</summary>
/// <param name="Start">First IOVA of the region.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Type">What the region is.</param>
/// <param name="Prot">Protection of the region when it is mapped (direct and MSI regions).</param>
public readonly record struct ReservedRegion(Iova Start, ulong Length, ReservedRegionType Type, IommuProt Prot = IommuProt.Read | IommuProt.Write)
{
    /// <summary>The last IOVA of the region (inclusive).</summary>
    public Iova Last => new(Start.Value + (Length - 1));
}
