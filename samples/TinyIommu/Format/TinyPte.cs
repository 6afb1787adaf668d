using Ioasid;

namespace TinyIommu.Format;

/// <summary>
/// One entry of a tiny-iommu I/O page table, a format in the spirit of AMD-Vi's: three levels of 512 eight-byte
/// entries translate a 39-bit IOVA to 4 KiB pages. An entry is a page or a pointer to the next table, told apart by
/// its next-level field, and read/write permission is the AND of every entry on the walk.
/// <code>
///  bit  0     PR    present
///  bits 11:9  NL    next level: 0 = this entry maps a 4 KiB page; 1..2 = it points to a table of that level
///  bits 51:12 ADDR  address of the page or of the next table
///  bit  61    IR    DMA reads allowed
///  bit  62    IW    DMA writes allowed
///  everything else reserved: must be 0
/// </code>
/// </summary>
public readonly record struct TinyPte(ulong Raw)
{
    /// <summary>Table levels: the root is level 3, leaves live in level-1 tables.</summary>
    public const int Levels = 3;

    /// <summary>log2 of the page size.</summary>
    public const int PageShift = 12;

    /// <summary>The only page size: 4 KiB.</summary>
    public const ulong PageSize = 1UL << PageShift;

    /// <summary>IOVA bits consumed per level.</summary>
    public const int IndexBits = 9;

    /// <summary>Entries per table page.</summary>
    public const int EntriesPerTable = 1 << IndexBits;

    /// <summary>IOVA bits translated: 12 + 3 × 9 = 39.</summary>
    public const int InputBits = PageShift + (Levels * IndexBits);

    /// <summary>PR: the entry is valid.</summary>
    public const ulong Present = 1UL << 0;

    /// <summary>Position of the NL field.</summary>
    public const int NextLevelShift = 9;

    /// <summary>The NL field.</summary>
    public const ulong NextLevelMask = 7UL << NextLevelShift;

    /// <summary>The ADDR field.</summary>
    public const ulong AddressMask = ((1UL << 52) - 1) & ~(PageSize - 1);

    /// <summary>IR: reads allowed.</summary>
    public const ulong ReadAllowed = 1UL << 61;

    /// <summary>IW: writes allowed.</summary>
    public const ulong WriteAllowed = 1UL << 62;

    /// <summary>Bits that must be zero in a present entry.</summary>
    public const ulong ReservedMask = ~(Present | NextLevelMask | AddressMask | ReadAllowed | WriteAllowed);

    /// <summary>PR.</summary>
    public bool IsPresent => (Raw & Present) != 0;

    /// <summary>NL: 0 for a page, otherwise the level of the table this entry points to.</summary>
    public int NextLevel => (int)((Raw & NextLevelMask) >> NextLevelShift);

    /// <summary>ADDR.</summary>
    public PhysAddr Address => new(Raw & AddressMask);

    /// <summary>IR.</summary>
    public bool CanRead => (Raw & ReadAllowed) != 0;

    /// <summary>IW.</summary>
    public bool CanWrite => (Raw & WriteAllowed) != 0;

    /// <summary>Whether a present entry found in a level-<paramref name="level"/> table is malformed.</summary>
    public bool IsMalformedAt(int level) =>
        (Raw & ReservedMask) != 0 || (level == 1 ? NextLevel != 0 : NextLevel != level - 1);

    /// <summary>A pointer to a table of <paramref name="nextLevel"/>; permissions are left to the leaves.</summary>
    public static TinyPte Table(PhysAddr table, int nextLevel) =>
        new(Present | ((ulong)nextLevel << NextLevelShift) | (table.Value & AddressMask) | ReadAllowed | WriteAllowed);

    /// <summary>A 4 KiB page at <paramref name="page"/>.</summary>
    public static TinyPte Page(PhysAddr page, bool read, bool write) =>
        new(Present | (page.Value & AddressMask) | (read ? ReadAllowed : 0) | (write ? WriteAllowed : 0));

    /// <summary>The index of <paramref name="iova"/> in its level-<paramref name="level"/> table.</summary>
    public static int Index(ulong iova, int level) =>
        (int)((iova >> (PageShift + ((level - 1) * IndexBits))) & (EntriesPerTable - 1));
}
