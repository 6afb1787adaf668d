namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// The second-stage paging entry (the kernel's <c>dma_pte</c>; VT-d spec §9.8; drivers.md §2.6), 512 per 4 KiB table.
/// There is no P bit: an entry with R = W = 0 is not present. Levels: AW 1/2/3 → 3/4/5 levels; a level-2 entry with
/// PS is a 2 MiB leaf, a level-3 entry with PS a 1 GiB leaf.
/// </summary>
/// <remarks>
/// Bits: R 0, W 1, X 2, EMT 5:3, IPAT 6, PS 7, A 8, D 9, SNP 11, ADDR (HAW-1):12, ignored 61:52, TM 62, ignored 63.
/// The driver keeps, in the ignored bits 61:52 of a non-leaf entry, the number of present entries of the table it
/// points to (<see cref="CountMask"/>); the hardware ignores them.
/// </remarks>
public static class SlPte
{
    /// <summary>R: reads allowed (ANDed across levels).</summary>
    public const ulong Read = 1UL << 0;

    /// <summary>W: writes allowed (ANDed across levels).</summary>
    public const ulong Write = 1UL << 1;

    /// <summary>X: execute (only with SSEE).</summary>
    public const ulong Execute = 1UL << 2;

    /// <summary>PS: a level-2 or level-3 leaf (superpage).</summary>
    public const ulong PageSize = 1UL << 7;

    /// <summary>A: accessed (with SSADE).</summary>
    public const ulong Accessed = 1UL << 8;

    /// <summary>D: dirty, leaves only (with SSADE).</summary>
    public const ulong Dirty = 1UL << 9;

    /// <summary>SNP: snoop; reserved unless ECAP.SC.</summary>
    public const ulong Snoop = 1UL << 11;

    /// <summary>ADDR: bits 51:12 (bits at or above the host address width are reserved).</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Ignored bits 61:52, where the driver keeps a table's present-entry count.</summary>
    public const ulong CountMask = 0x3FFUL << CountShift;

    /// <summary>The lowest bit of <see cref="CountMask"/>.</summary>
    public const int CountShift = 52;

    /// <summary>R | W: an entry with either is present.</summary>
    public const ulong PresentMask = Read | Write;

    /// <summary>Whether the entry is present (R or W set).</summary>
    public static bool IsPresent(ulong pte) => (pte & PresentMask) != 0;

    /// <summary>A non-leaf entry pointing at <paramref name="table"/>: R | W, as Linux writes them.</summary>
    public static ulong Table(PhysAddr table) => table.Value | Read | Write;

    /// <summary>A leaf at <paramref name="level"/> (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) for <paramref name="frame"/>.</summary>
    public static ulong Leaf(PhysAddr frame, int level, bool read, bool write, bool snoop = false) =>
        frame.Value | (read ? Read : 0) | (write ? Write : 0) | (level > 1 ? PageSize : 0) | (snoop ? Snoop : 0);

    /// <summary>The address field.</summary>
    public static PhysAddr Address(ulong pte) => new(pte & AddressMask);

    /// <summary>
    /// Reserved bits of a present entry at <paramref name="level"/> (QEMU's masks): bits 51:HAW; SNP unless snoop
    /// control; in a 2 MiB leaf bits 20:12, in a 1 GiB leaf bits 29:12; PS in level-4/5 entries and at level 1.
    /// </summary>
    public static ulong ReservedMask(int level, bool leaf, int haw, bool snoopControl)
    {
        ulong mask = (AddressMask & RootEntry.AddressBitsAbove(haw)) | (snoopControl ? 0 : Snoop);
        if (leaf && level == 2)
        {
            mask |= 0x1FF000UL;
        }
        else if (leaf && level == 3)
        {
            mask |= 0x3FFF_F000UL;
        }
        else if (level >= 4)
        {
            mask |= PageSize;
        }

        return mask;
    }
}
