namespace Ioasid.Core.Iommu;

/// <summary>
/// The IOVA window a domain translates (<c>struct iommu_domain_geometry</c>): <c>[ApertureStart, ApertureEnd]</c>
/// inclusive. With <see cref="ForceAperture"/>, IOVAs outside it are never used; iommufd reserves the rest.
/// </summary>
/// <param name="ApertureStart">First translatable IOVA.</param>
/// <param name="ApertureEnd">Last translatable IOVA (inclusive).</param>
/// <param name="ForceAperture">Whether IOVAs outside the window must not be used.</param>
public readonly record struct DomainGeometry(Iova ApertureStart, Iova ApertureEnd, bool ForceAperture = true)
{
    /// <summary>A window covering the first <paramref name="bits"/> bits of IOVA space.</summary>
    public static DomainGeometry FromInputBits(int bits) =>
        new(Iova.Zero, new Iova(bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1));
}
