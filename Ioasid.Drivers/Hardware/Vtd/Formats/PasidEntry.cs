namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>The PASID-table entry's PGTT field: which translation a PASID gets (drivers.md §2.5).</summary>
public enum PasidGranularTranslationType : byte
{
    /// <summary>000b: reserved (fault 5Bh).</summary>
    Reserved = 0,

    /// <summary>001b: first-stage only, tables at FSPTPTR.</summary>
    FirstStage = 1,

    /// <summary>010b: second-stage only, tables at SSPTPTR.</summary>
    SecondStage = 2,

    /// <summary>011b: nested: first stage at FSPTPTR, every address of it translated by the second stage.</summary>
    Nested = 3,

    /// <summary>100b: pass-through, output = input.</summary>
    PassThrough = 4,
}

/// <summary>
/// A 512-bit scalable-mode PASID-table entry (VT-d spec §9.6; drivers.md §2.5), 64 per 4 KiB PASID table. Only the
/// first three qwords carry fields this model uses; <c>qw3</c>–<c>qw7</c> are written as zero.
/// </summary>
/// <remarks>
/// <c>qw0</c>: P 0, FPD 1, AW 4:2, SSEE 5, PGTT 8:6, SSADE 9, reserved 11:10, SSPTPTR 63:12.
/// <c>qw1</c> (bits 127:64): DID 15:0, PWSNP 23, PGSNP 24.
/// <c>qw2</c> (bits 191:128): SRE 0, reserved 1, FSPM 3:2, WPE 4, NXE 5, EAFE 7, FSPTPTR 63:12.
/// </remarks>
/// <param name="Q0">Bits 63:0.</param>
/// <param name="Q1">Bits 127:64.</param>
/// <param name="Q2">Bits 191:128.</param>
/// <param name="Q3">Bits 255:192 (unused here; must be 0).</param>
public readonly record struct PasidEntry(ulong Q0, ulong Q1, ulong Q2, ulong Q3 = 0)
{
    /// <summary>Size of one entry in bytes.</summary>
    public const int Size = 64;

    /// <summary>P: bit 0.</summary>
    public const ulong PresentBit = 1UL << 0;

    /// <summary>FPD: bit 1.</summary>
    public const ulong FaultProcessingDisableBit = 1UL << 1;

    /// <summary>AW: bits 4:2.</summary>
    public const int AddressWidthShift = 2;

    /// <summary>SSEE: bit 5.</summary>
    public const ulong SecondStageExecuteBit = 1UL << 5;

    /// <summary>PGTT: bits 8:6.</summary>
    public const int PgttShift = 6;

    /// <summary>SSADE: bit 9.</summary>
    public const ulong SecondStageAccessDirtyBit = 1UL << 9;

    /// <summary>qw0 reserved bits 11:10.</summary>
    public const ulong ReservedQ0 = 0xC00UL;

    /// <summary>qw1 DID: bits 15:0.</summary>
    public const ulong DomainIdMask = 0xFFFFUL;

    /// <summary>qw1 PWSNP (page-walk snoop): bit 23 (absolute 87).</summary>
    public const ulong PageWalkSnoopBit = 1UL << 23;

    /// <summary>qw1 PGSNP (page snoop): bit 24 (absolute 88).</summary>
    public const ulong PageSnoopBit = 1UL << 24;

    /// <summary>qw2 SRE (supervisor requests): bit 0 (absolute 128).</summary>
    public const ulong SupervisorRequestBit = 1UL << 0;

    /// <summary>qw2 FSPM (first-stage paging mode, 0 = 4-level, 1 = 5-level): bits 3:2.</summary>
    public const int FirstStagePagingModeShift = 2;

    /// <summary>qw2 WPE (write protect enable): bit 4 (absolute 132).</summary>
    public const ulong WriteProtectBit = 1UL << 4;

    /// <summary>qw2 EAFE (extended accessed flag): bit 7 (absolute 135).</summary>
    public const ulong ExtendedAccessedBit = 1UL << 7;

    /// <summary>qw2 reserved bits 1 and 11:8.</summary>
    public const ulong ReservedQ2 = 0xF02UL;

    /// <summary>A second-stage-only entry (PGTT 010b).</summary>
    public static PasidEntry SecondStage(PhysAddr root, int addressWidth, ushort domainId, bool pageWalkSnoop = false) =>
        new(root.Value | ((ulong)PasidGranularTranslationType.SecondStage << PgttShift) | ((ulong)addressWidth << AddressWidthShift) | PresentBit,
            domainId | (pageWalkSnoop ? PageWalkSnoopBit : 0), 0);

    /// <summary>A first-stage-only entry (PGTT 001b) with 4- or 5-level paging.</summary>
    public static PasidEntry FirstStage(PhysAddr root, bool fiveLevel, ushort domainId, bool supervisor = false, bool writeProtect = false, bool pageWalkSnoop = false) =>
        new(((ulong)PasidGranularTranslationType.FirstStage << PgttShift) | PresentBit,
            domainId | (pageWalkSnoop ? PageWalkSnoopBit : 0),
            FirstStageQ2(root, fiveLevel, supervisor, writeProtect, extendedAccessed: false));

    /// <summary>A nested entry (PGTT 011b): the user's first stage at <paramref name="firstStageRoot"/> (a stage-2 input address) over the second stage at <paramref name="secondStageRoot"/>.</summary>
    public static PasidEntry Nested(PhysAddr firstStageRoot, bool fiveLevel, PhysAddr secondStageRoot, int addressWidth, ushort domainId,
        bool supervisor, bool writeProtect, bool extendedAccessed) =>
        new(secondStageRoot.Value | ((ulong)PasidGranularTranslationType.Nested << PgttShift) | ((ulong)addressWidth << AddressWidthShift) | PresentBit,
            domainId,
            FirstStageQ2(firstStageRoot, fiveLevel, supervisor, writeProtect, extendedAccessed));

    /// <summary>A pass-through entry (PGTT 100b).</summary>
    public static PasidEntry PassThrough(int addressWidth, ushort domainId) =>
        new(((ulong)PasidGranularTranslationType.PassThrough << PgttShift) | ((ulong)addressWidth << AddressWidthShift) | PresentBit, domainId, 0);

    private static ulong FirstStageQ2(PhysAddr root, bool fiveLevel, bool supervisor, bool writeProtect, bool extendedAccessed) =>
        root.Value | ((fiveLevel ? 1UL : 0UL) << FirstStagePagingModeShift) | (supervisor ? SupervisorRequestBit : 0)
        | (writeProtect ? WriteProtectBit : 0) | (extendedAccessed ? ExtendedAccessedBit : 0);

    /// <summary>P.</summary>
    public bool Present => (Q0 & PresentBit) != 0;

    /// <summary>FPD.</summary>
    public bool FaultProcessingDisable => (Q0 & FaultProcessingDisableBit) != 0;

    /// <summary>AW (second-stage address width, context-entry encoding).</summary>
    public int AddressWidth => (int)((Q0 >> AddressWidthShift) & 7);

    /// <summary>PGTT.</summary>
    public PasidGranularTranslationType Pgtt => (PasidGranularTranslationType)((Q0 >> PgttShift) & 7);

    /// <summary>SSADE: second-stage accessed/dirty flags are updated by the hardware (dirty tracking).</summary>
    public bool SecondStageAccessDirty => (Q0 & SecondStageAccessDirtyBit) != 0;

    /// <summary>SSPTPTR.</summary>
    public PhysAddr SecondStageRoot => new(Q0 & RootEntry.PageMask);

    /// <summary>DID.</summary>
    public ushort DomainId => (ushort)(Q1 & DomainIdMask);

    /// <summary>SRE.</summary>
    public bool SupervisorRequests => (Q2 & SupervisorRequestBit) != 0;

    /// <summary>WPE.</summary>
    public bool WriteProtect => (Q2 & WriteProtectBit) != 0;

    /// <summary>FSPM = 01b: 5-level first-stage paging.</summary>
    public bool FirstStageFiveLevel => ((Q2 >> FirstStagePagingModeShift) & 3) == 1;

    /// <summary>FSPM is a reserved value (10b or 11b).</summary>
    public bool FirstStagePagingModeReserved => ((Q2 >> FirstStagePagingModeShift) & 3) > 1;

    /// <summary>FSPTPTR.</summary>
    public PhysAddr FirstStageRoot => new(Q2 & RootEntry.PageMask);

    /// <summary>Whether reserved bits are set in the fields this model decodes.</summary>
    public bool HasReservedBits => (Q0 & ReservedQ0) != 0 || (Q2 & ReservedQ2) != 0 || Q3 != 0;

    /// <summary>The same entry with SSADE set or cleared (<c>intel_pasid_setup_dirty_tracking</c>).</summary>
    public PasidEntry WithSecondStageAccessDirty(bool enable) =>
        this with { Q0 = enable ? Q0 | SecondStageAccessDirtyBit : Q0 & ~SecondStageAccessDirtyBit };

    /// <summary>The same entry with FPD set and P clear: how a torn-down entry keeps "ignore faults" (drivers.md §2.11).</summary>
    public PasidEntry WithFaultProcessingDisabled() => this with { Q0 = Q0 | FaultProcessingDisableBit };

    /// <inheritdoc />
    public override string ToString() => $"{Q3:x16}:{Q2:x16}:{Q1:x16}:{Q0:x16}";
}
