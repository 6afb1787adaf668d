using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// The first-stage paging entry: the x86 long-mode format (VT-d spec §9.7; drivers.md §2.7), 4 or 5 levels over a
/// canonical 48- or 57-bit input. Bits: P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS 7, G 8, EA 10, ADDR 51:12,
/// ignored 62:52 in non-leaf entries, XD 63.
/// </summary>
/// <remarks>
/// Linux writes leaves as P | (R/W if writable) | U/S | A | (D if writable) so the hardware never needs to set A or D,
/// and non-leaf entries as P | R/W | U/S | A. The bits are the simulated CPU's own (<see cref="CpuPte"/>): the first
/// stage is the CPU's paging format, which is what lets an SVA PASID entry point at a process's table. The driver
/// keeps a table's present-entry count in bits 61:52 of the non-leaf entry pointing at it (ignored by the hardware).
/// </remarks>
public static class FlPte
{
    /// <summary>P.</summary>
    public const ulong Present = CpuPte.Present;

    /// <summary>R/W: writes allowed (ANDed across levels).</summary>
    public const ulong Writable = CpuPte.Writable;

    /// <summary>U/S: user accesses allowed (ANDed across levels).</summary>
    public const ulong User = CpuPte.User;

    /// <summary>A: accessed.</summary>
    public const ulong Accessed = CpuPte.Accessed;

    /// <summary>D: dirty (leaves).</summary>
    public const ulong Dirty = CpuPte.Dirty;

    /// <summary>PS: a 2 MiB (PDE) or 1 GiB (PDPE) leaf.</summary>
    public const ulong PageSize = CpuPte.PageSize;

    /// <summary>G: global.</summary>
    public const ulong Global = CpuPte.Global;

    /// <summary>XD: execute disable.</summary>
    public const ulong ExecuteDisable = CpuPte.ExecuteDisable;

    /// <summary>ADDR: bits 51:12.</summary>
    public const ulong AddressMask = CpuPte.AddressMask;

    /// <summary>A non-leaf entry as Linux writes it: P | R/W | U/S | A.</summary>
    public static ulong Table(PhysAddr table) => table.Value | Present | Writable | User | Accessed;

    /// <summary>A leaf as Linux writes it at <paramref name="level"/> (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB).</summary>
    public static ulong Leaf(PhysAddr frame, int level, bool write) =>
        frame.Value | Present | User | Accessed | (write ? Writable | Dirty : 0) | (level > 1 ? PageSize : 0);

    /// <summary>Whether the entry is present.</summary>
    public static bool IsPresent(ulong pte) => (pte & Present) != 0;

    /// <summary>The address field.</summary>
    public static PhysAddr Address(ulong pte) => new(pte & AddressMask);

    /// <summary>
    /// Reserved bits of a present entry: address bits 51:HAW; in a 2 MiB leaf bits 20:13, in a 1 GiB leaf bits 29:13
    /// (bit 12 is PAT there); PS at levels 4/5 and at level 1 is the PAT bit, not reserved.
    /// </summary>
    public static ulong ReservedMask(int level, bool leaf, int haw)
    {
        ulong mask = AddressMask & RootEntry.AddressBitsAbove(haw);
        if (leaf && level == 2)
        {
            mask |= 0x1FE000UL;
        }
        else if (leaf && level == 3)
        {
            mask |= 0x3FFF_E000UL;
        }
        else if (level >= 4)
        {
            mask |= PageSize;
        }

        return mask;
    }
}
