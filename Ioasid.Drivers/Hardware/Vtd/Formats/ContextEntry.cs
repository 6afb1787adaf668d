namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>What a legacy context entry's TT field lets through (drivers.md §2.4).</summary>
public enum ContextTranslationType : byte
{
    /// <summary>00b: untranslated requests, walked through the second stage.</summary>
    Untranslated = 0,

    /// <summary>01b: also ATS translation requests and translated requests (device TLB).</summary>
    UntranslatedAndAts = 1,

    /// <summary>10b: pass-through (needs ECAP.PT): output = input.</summary>
    PassThrough = 2,

    /// <summary>11b: reserved; a context entry with it is invalid (fault 3h).</summary>
    Reserved = 3,
}

/// <summary>
/// A legacy-mode 128-bit context entry (VT-d spec §9.3; drivers.md §2.4), 256 per context-table page, indexed by
/// devfn. <c>qw0</c>: P 0, FPD 1, TT 3:2, reserved 11:4, SLPTPTR 63:12. <c>qw1</c>: AW 2:0, AVAIL 6:3, reserved 7,
/// DID 23:8, reserved 63:24.
/// </summary>
/// <param name="Low">Bits 63:0.</param>
/// <param name="High">Bits 127:64.</param>
public readonly record struct ContextEntry(ulong Low, ulong High)
{
    /// <summary>Size of one entry in bytes.</summary>
    public const int Size = 16;

    /// <summary>P: bit 0.</summary>
    public const ulong PresentBit = 1UL << 0;

    /// <summary>FPD (fault processing disable): bit 1.</summary>
    public const ulong FaultProcessingDisableBit = 1UL << 1;

    /// <summary>TT: bits 3:2.</summary>
    public const int TranslationTypeShift = 2;

    /// <summary>qw0 reserved bits 11:4.</summary>
    public const ulong ReservedLow = 0xFF0UL;

    /// <summary>qw1 AW: bits 2:0.</summary>
    public const ulong AddressWidthMask = 0x7UL;

    /// <summary>qw1 DID: bits 23:8.</summary>
    public const int DomainIdShift = 8;

    /// <summary>qw1 reserved bits: 7 and 63:24.</summary>
    public const ulong ReservedHigh = (1UL << 7) | ~((1UL << 24) - 1);

    /// <summary>A present entry translating through the second-stage table at <paramref name="root"/>.</summary>
    public static ContextEntry Translate(PhysAddr root, int addressWidth, ushort domainId, ContextTranslationType type = ContextTranslationType.Untranslated) =>
        new(root.Value | ((ulong)type << TranslationTypeShift) | PresentBit, (uint)addressWidth | ((ulong)domainId << DomainIdShift));

    /// <summary>A present pass-through entry (TT = 10b) tagged with <paramref name="domainId"/>.</summary>
    public static ContextEntry PassThrough(int addressWidth, ushort domainId) =>
        new(((ulong)ContextTranslationType.PassThrough << TranslationTypeShift) | PresentBit, (uint)addressWidth | ((ulong)domainId << DomainIdShift));

    /// <summary>P.</summary>
    public bool Present => (Low & PresentBit) != 0;

    /// <summary>FPD.</summary>
    public bool FaultProcessingDisable => (Low & FaultProcessingDisableBit) != 0;

    /// <summary>TT.</summary>
    public ContextTranslationType TranslationType => (ContextTranslationType)((Low >> TranslationTypeShift) & 3);

    /// <summary>SLPTPTR: the second-stage root table.</summary>
    public PhysAddr SecondStageRoot => new(Low & RootEntry.PageMask);

    /// <summary>AW: 1 = 39-bit/3-level, 2 = 48-bit/4-level, 3 = 57-bit/5-level.</summary>
    public int AddressWidth => (int)(High & AddressWidthMask);

    /// <summary>DID.</summary>
    public ushort DomainId => (ushort)(High >> DomainIdShift);

    /// <summary>Whether reserved bits are set (SLPTPTR above the host address width <paramref name="haw"/> included).</summary>
    public bool HasReservedBits(int haw) =>
        (Low & (ReservedLow | RootEntry.AddressBitsAbove(haw))) != 0 || (High & ReservedHigh) != 0;

    /// <summary>The same entry with TT = <paramref name="type"/>.</summary>
    public ContextEntry WithTranslationType(ContextTranslationType type) =>
        this with { Low = (Low & ~(3UL << TranslationTypeShift)) | ((ulong)type << TranslationTypeShift) };

    /// <summary>The same entry with FPD set.</summary>
    public ContextEntry WithFaultProcessingDisabled() => this with { Low = Low | FaultProcessingDisableBit };

    /// <inheritdoc />
    public override string ToString() => $"{High:x16}:{Low:x16}";
}
