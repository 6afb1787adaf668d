namespace Ioasid.Core.Platform;

/// <summary>
/// The x86-64 paging-structure entry of the simulated CPU (4-level, 48-bit, Intel SDM vol. 3 §4.5): the format a
/// process's <see cref="CpuPageTable"/> is written in, and the one VT-d's first stage walks (drivers.md §2.7).
/// Bits: P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS 7 (PAT in a 4 KiB PTE), G 8, ADDR 51:12, XD 63.
/// </summary>
/// <remarks>
/// Entries are written as Linux writes user entries: a table entry is <c>_PAGE_TABLE</c> (P | R/W | U/S | A | D);
/// a leaf is P | U/S | A, plus R/W and D when the page is mapped writable (the model's pages are faulted in by the
/// access or pin that needs them, so a writable page is already dirty), plus XD unless the mapping is executable, plus
/// PS for a 2 MiB transparent huge page. With A and D preset, a device walking the table never has to write it.
/// </remarks>
public static class CpuPte
{
    /// <summary>P: present.</summary>
    public const ulong Present = 1UL << 0;

    /// <summary>R/W: writes allowed (ANDed across levels).</summary>
    public const ulong Writable = 1UL << 1;

    /// <summary>U/S: user-mode accesses allowed (ANDed across levels).</summary>
    public const ulong User = 1UL << 2;

    /// <summary>A: accessed.</summary>
    public const ulong Accessed = 1UL << 5;

    /// <summary>D: dirty (leaves; ignored in table entries).</summary>
    public const ulong Dirty = 1UL << 6;

    /// <summary>PS: in a PDE, a 2 MiB leaf (in a PDPTE, 1 GiB; this model never writes one).</summary>
    public const ulong PageSize = 1UL << 7;

    /// <summary>G: global (never set for user pages).</summary>
    public const ulong Global = 1UL << 8;

    /// <summary>XD (NX): instruction fetches not allowed.</summary>
    public const ulong ExecuteDisable = 1UL << 63;

    /// <summary>ADDR: bits 51:12, the next table or the page frame.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Linux's <c>_PAGE_TABLE</c> flags of a table entry: P | R/W | U/S | A | D (0x67).</summary>
    public const ulong TableFlags = Present | Writable | User | Accessed | Dirty;

    /// <summary>Levels of the 4-level format (PML4, PDPT, PD, PT).</summary>
    public const int Levels = 4;

    /// <summary>A table entry pointing at <paramref name="table"/>.</summary>
    public static ulong Table(PhysAddr table) => table.Value | TableFlags;

    /// <summary>A user leaf for <paramref name="frame"/>: P | U/S | A, R/W | D when writable, XD unless executable, PS when <paramref name="huge"/>.</summary>
    public static ulong Leaf(PhysAddr frame, bool writable, bool executable, bool huge = false) =>
        frame.Value | Present | User | Accessed | (writable ? Writable | Dirty : 0) | (executable ? 0 : ExecuteDisable) | (huge ? PageSize : 0);

    /// <summary>Whether the entry is present.</summary>
    public static bool IsPresent(ulong entry) => (entry & Present) != 0;

    /// <summary>The address field.</summary>
    public static PhysAddr Address(ulong entry) => new(entry & AddressMask);
}
