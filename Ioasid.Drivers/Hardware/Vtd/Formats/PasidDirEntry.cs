namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// A 64-bit PASID-directory entry (VT-d spec §9.5; drivers.md §2.5): P 0, FPD 1, reserved 11:2, PASID-table pointer
/// 63:12. The directory is indexed by PASID[19:6]; each PASID table is one 4 KiB page of 64 PASID entries.
/// </summary>
/// <param name="Value">The raw entry.</param>
public readonly record struct PasidDirEntry(ulong Value)
{
    /// <summary>Size of one entry in bytes.</summary>
    public const int Size = 8;

    /// <summary>P: bit 0.</summary>
    public const ulong PresentBit = 1UL << 0;

    /// <summary>FPD: bit 1.</summary>
    public const ulong FaultProcessingDisableBit = 1UL << 1;

    /// <summary>Reserved bits 11:2.</summary>
    public const ulong Reserved = 0xFFCUL;

    /// <summary>PASIDs per PASID table: 64 (PASID[5:0] indexes the table).</summary>
    public const int PasidsPerTable = 64;

    /// <summary>A present entry pointing at the PASID table <paramref name="table"/>.</summary>
    public static PasidDirEntry Create(PhysAddr table) => new(table.Value | PresentBit);

    /// <summary>P.</summary>
    public bool Present => (Value & PresentBit) != 0;

    /// <summary>FPD.</summary>
    public bool FaultProcessingDisable => (Value & FaultProcessingDisableBit) != 0;

    /// <summary>The PASID table.</summary>
    public PhysAddr PasidTable => new(Value & RootEntry.PageMask);

    /// <summary>The directory index of <paramref name="pasid"/>: PASID[19:6].</summary>
    public static uint DirectoryIndex(uint pasid) => pasid >> 6;

    /// <summary>The table index of <paramref name="pasid"/>: PASID[5:0].</summary>
    public static uint TableIndex(uint pasid) => pasid & 63;

    /// <summary>Whether reserved bits are set.</summary>
    public bool HasReservedBits(int haw) => (Value & (Reserved | RootEntry.AddressBitsAbove(haw))) != 0;

    /// <inheritdoc />
    public override string ToString() => $"{Value:x16}";
}
