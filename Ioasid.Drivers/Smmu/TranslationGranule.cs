using System;

namespace Ioasid.Drivers.Smmu;

/// <summary>A VMSAv8-64 translation granule; the value is log2 of its size (drivers.md §3.6).</summary>
public enum TranslationGranule
{
    /// <summary>4 KiB pages, 9 index bits per level, blocks of 1 GiB (level 1) and 2 MiB (level 2).</summary>
    Size4K = 12,

    /// <summary>16 KiB pages, 11 index bits per level, blocks of 32 MiB (level 2).</summary>
    Size16K = 14,

    /// <summary>64 KiB pages, 13 index bits per level, blocks of 512 MiB (level 2).</summary>
    Size64K = 16,
}

/// <summary>
/// The arithmetic of a granule: index bits per level (stride), the shift each level resolves, which levels may hold
/// blocks, the start level for an input size, and the granule's encodings in the CD (TG0), the STE (S2TG) and TLBI
/// commands (TG). Shared by the driver's page table and the hardware walker.
/// </summary>
public static class Granules
{
    /// <summary>log2 of the granule size (12, 14 or 16).</summary>
    public static int PageShift(this TranslationGranule granule) => (int)granule;

    /// <summary>The granule size in bytes.</summary>
    public static ulong PageSize(this TranslationGranule granule) => 1UL << (int)granule;

    /// <summary>Index bits a full table resolves: log2(granule) − 3.</summary>
    public static int Stride(this TranslationGranule granule) => (int)granule - 3;

    /// <summary>The lowest input bit level <paramref name="level"/> (0–3) resolves: page shift + stride × (3 − level).</summary>
    public static int LevelShift(this TranslationGranule granule, int level) => (int)granule + (granule.Stride() * (3 - level));

    /// <summary>
    /// Whether a block (or, at level 3, page) descriptor is allowed at <paramref name="level"/> without LPA2 / 52-bit
    /// output: 4 KiB at levels 1–3, 16 KiB and 64 KiB at levels 2–3.
    /// </summary>
    public static bool AllowsLeaf(this TranslationGranule granule, int level) =>
        level == 3 || level == 2 || (level == 1 && granule == TranslationGranule.Size4K);

    /// <summary>
    /// The stage-1 start level for an input size of <paramref name="inputBits"/> (64 − TxSZ):
    /// <c>4 − (IA − 4) / stride</c>, so 4 KiB: 22–30 → 2, 31–39 → 1, 40–48 → 0; 16 KiB: 26–36 → 2, 37–47 → 1, 48 → 0;
    /// 64 KiB: 30–42 → 2, 43–52 → 1.
    /// </summary>
    public static int StartLevel(this TranslationGranule granule, int inputBits) => 4 - ((inputBits - 4) / granule.Stride());

    /// <summary>The CD.TG0 / STE.S2TG encoding: 0 = 4 KiB, 1 = 64 KiB, 2 = 16 KiB.</summary>
    public static ulong Tg0Encoding(this TranslationGranule granule) => granule switch
    {
        TranslationGranule.Size4K => 0,
        TranslationGranule.Size64K => 1,
        TranslationGranule.Size16K => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(granule)),
    };

    /// <summary>Decodes CD.TG0 / STE.S2TG; false for the reserved value 3.</summary>
    public static bool TryFromTg0(ulong encoding, out TranslationGranule granule)
    {
        granule = encoding switch { 0 => TranslationGranule.Size4K, 1 => TranslationGranule.Size64K, 2 => TranslationGranule.Size16K, _ => 0 };
        return granule != 0;
    }

    /// <summary>The TLBI command TG encoding (range invalidation): 1 = 4 KiB, 2 = 16 KiB, 3 = 64 KiB.</summary>
    public static ulong TlbiEncoding(this TranslationGranule granule) => granule switch
    {
        TranslationGranule.Size4K => 1,
        TranslationGranule.Size16K => 2,
        TranslationGranule.Size64K => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(granule)),
    };

    /// <summary>Decodes a TLBI TG field; false for 0 (not a range command).</summary>
    public static bool TryFromTlbi(ulong encoding, out TranslationGranule granule)
    {
        granule = encoding switch { 1 => TranslationGranule.Size4K, 2 => TranslationGranule.Size16K, 3 => TranslationGranule.Size64K, _ => 0 };
        return granule != 0;
    }

    /// <summary>The page-size bitmap of a domain using <paramref name="granule"/>: 4K|2M|1G, 16K|32M or 64K|512M.</summary>
    public static ulong PageSizeBitmap(this TranslationGranule granule) => granule switch
    {
        TranslationGranule.Size4K => (1UL << 12) | (1UL << 21) | (1UL << 30),
        TranslationGranule.Size16K => (1UL << 14) | (1UL << 25),
        TranslationGranule.Size64K => (1UL << 16) | (1UL << 29),
        _ => throw new ArgumentOutOfRangeException(nameof(granule)),
    };
}
