namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// One 128-bit root-table entry (VT-d spec §9.1/§9.2; drivers.md §2.3). The root table is one 4 KiB page of 256
/// entries indexed by bus number. In legacy mode <c>qw0</c> holds P (bit 0) and the context-table pointer (63:12);
/// in scalable mode <c>qw0</c> holds LP/LCTP for devfn 0x00–0x7F and <c>qw1</c> UP/UCTP for devfn 0x80–0xFF, because
/// scalable-mode context entries are 256 bits and one table page covers only 128 functions.
/// </summary>
/// <param name="Low">Bits 63:0 (<c>qw0</c>).</param>
/// <param name="High">Bits 127:64 (<c>qw1</c>).</param>
public readonly record struct RootEntry(ulong Low, ulong High)
{
    /// <summary>Size of one entry in bytes.</summary>
    public const int Size = 16;

    /// <summary>P / LP: bit 0 of a qword.</summary>
    public const ulong PresentBit = 1UL << 0;

    /// <summary>Bits 11:1 of each qword, reserved in both modes.</summary>
    public const ulong ReservedLowBits = 0xFFEUL;

    /// <summary>A legacy-mode entry pointing at the context table <paramref name="contextTable"/>.</summary>
    public static RootEntry Legacy(PhysAddr contextTable) => new(contextTable.Value | PresentBit, 0);

    /// <summary>A scalable-mode entry; a zero address leaves that half not present.</summary>
    public static RootEntry Scalable(PhysAddr lower, PhysAddr upper) =>
        new(lower.Value == 0 ? 0 : lower.Value | PresentBit, upper.Value == 0 ? 0 : upper.Value | PresentBit);

    /// <summary>P (legacy) or LP (scalable): the (lower) context table pointer is valid.</summary>
    public bool Present => (Low & PresentBit) != 0;

    /// <summary>CTP (legacy) or LCTP (scalable): the (lower) context table.</summary>
    public PhysAddr ContextTable => new(Low & PageMask);

    /// <summary>UP (scalable only): the upper context table pointer is valid.</summary>
    public bool UpperPresent => (High & PresentBit) != 0;

    /// <summary>UCTP (scalable only): the context table for devfn 0x80–0xFF.</summary>
    public PhysAddr UpperContextTable => new(High & PageMask);

    internal const ulong PageMask = ~0xFFFUL;

    /// <summary>Whether reserved bits are set for the mode, given the host address width <paramref name="haw"/>.</summary>
    public bool HasReservedBits(bool scalable, int haw)
    {
        ulong above = AddressBitsAbove(haw);
        return scalable
            ? (Low & (ReservedLowBits | above)) != 0 || (High & (ReservedLowBits | above)) != 0
            : (Low & (ReservedLowBits | above)) != 0 || High != 0;
    }

    /// <summary>Address bits 63:<paramref name="haw"/>, reserved in every table pointer.</summary>
    internal static ulong AddressBitsAbove(int haw) => haw >= 64 ? 0 : ~((1UL << haw) - 1);

    /// <inheritdoc />
    public override string ToString() => $"{High:x16}:{Low:x16}";
}
