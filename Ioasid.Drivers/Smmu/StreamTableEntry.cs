namespace Ioasid.Drivers.Smmu;

/// <summary>
/// A Stream Table Entry (64 bytes, 8 little-endian qwords; SMMUv3 §5.2, drivers.md §3.4) as named bit fields over
/// its first four qwords (qw4–qw7 hold nothing this model uses and are written as zero). The driver builds one and
/// writes <see cref="Qw0"/>–<see cref="Qw3"/> to the stream table; the hardware reads them back and decodes.
/// </summary>
public struct StreamTableEntry
{
    /// <summary>Size of an STE in bytes.</summary>
    public const int Size = 64;

    /// <summary>EATS value for "full ATS".</summary>
    public const ulong EatsFull = 1;

    /// <summary>SHCFG value "use incoming shareability".</summary>
    public const ulong ShcfgIncoming = 1;

    /// <summary>S1CIR/S1COR value write-back read-allocate.</summary>
    public const ulong CacheWbra = 1;

    /// <summary>S1CSH value inner shareable.</summary>
    public const ulong ShareInner = 3;

    /// <summary>Qword 0: V, Config, S1Fmt, S1ContextPtr, S1CDMax.</summary>
    public ulong Qw0;

    /// <summary>Qword 1: S1DSS, S1CIR/COR/CSH, MEV, S1STALLD, EATS, STRW, SHCFG, …</summary>
    public ulong Qw1;

    /// <summary>Qword 2: S2VMID and the VTCR-like stage-2 fields.</summary>
    public ulong Qw2;

    /// <summary>Qword 3: S2TTB.</summary>
    public ulong Qw3;

    /// <summary>Creates an entry from its first four qwords.</summary>
    public StreamTableEntry(ulong qw0, ulong qw1, ulong qw2, ulong qw3)
    {
        Qw0 = qw0;
        Qw1 = qw1;
        Qw2 = qw2;
        Qw3 = qw3;
    }

    /// <summary>V, qw0[0].</summary>
    public bool Valid { readonly get => BitField.Bit(Qw0, 0); set => Qw0 = BitField.SetBit(Qw0, 0, value); }

    /// <summary>Config, qw0[3:1].</summary>
    public SteConfig Config { readonly get => (SteConfig)BitField.Get(Qw0, 1, 3); set => Qw0 = BitField.Set(Qw0, 1, 3, (ulong)value); }

    /// <summary>The raw Config field (reserved encodings included).</summary>
    public readonly ulong RawConfig => BitField.Get(Qw0, 1, 3);

    /// <summary>S1Fmt, qw0[5:4].</summary>
    public CdTableFormat S1Fmt { readonly get => (CdTableFormat)BitField.Get(Qw0, 4, 2); set => Qw0 = BitField.Set(Qw0, 4, 2, (ulong)value); }

    /// <summary>S1ContextPtr, qw0[51:6]: the CD table (or L1 CD table) address.</summary>
    public PhysAddr S1ContextPtr { readonly get => new(Qw0 & BitField.Mask(6, 46)); set => Qw0 = (Qw0 & ~BitField.Mask(6, 46)) | (value.Value & BitField.Mask(6, 46)); }

    /// <summary>S1CDMax, qw0[63:59]: log2 of the number of CDs (0 = substreams disabled).</summary>
    public int S1CdMax { readonly get => (int)BitField.Get(Qw0, 59, 5); set => Qw0 = BitField.Set(Qw0, 59, 5, (ulong)value); }

    /// <summary>S1DSS, qw1[1:0].</summary>
    public S1Dss S1Dss { readonly get => (S1Dss)BitField.Get(Qw1, 0, 2); set => Qw1 = BitField.Set(Qw1, 0, 2, (ulong)value); }

    /// <summary>S1CIR, qw1[3:2].</summary>
    public ulong S1Cir { readonly get => BitField.Get(Qw1, 2, 2); set => Qw1 = BitField.Set(Qw1, 2, 2, value); }

    /// <summary>S1COR, qw1[5:4].</summary>
    public ulong S1Cor { readonly get => BitField.Get(Qw1, 4, 2); set => Qw1 = BitField.Set(Qw1, 4, 2, value); }

    /// <summary>S1CSH, qw1[7:6].</summary>
    public ulong S1Csh { readonly get => BitField.Get(Qw1, 6, 2); set => Qw1 = BitField.Set(Qw1, 6, 2, value); }

    /// <summary>MEV, qw1[19]: merge events.</summary>
    public bool Mev { readonly get => BitField.Bit(Qw1, 19); set => Qw1 = BitField.SetBit(Qw1, 19, value); }

    /// <summary>S1STALLD, qw1[27].</summary>
    public bool S1StallDisable { readonly get => BitField.Bit(Qw1, 27); set => Qw1 = BitField.SetBit(Qw1, 27, value); }

    /// <summary>EATS, qw1[29:28].</summary>
    public ulong Eats { readonly get => BitField.Get(Qw1, 28, 2); set => Qw1 = BitField.Set(Qw1, 28, 2, value); }

    /// <summary>STRW, qw1[31:30].</summary>
    public ulong Strw { readonly get => BitField.Get(Qw1, 30, 2); set => Qw1 = BitField.Set(Qw1, 30, 2, value); }

    /// <summary>SHCFG, qw1[45:44].</summary>
    public ulong Shcfg { readonly get => BitField.Get(Qw1, 44, 2); set => Qw1 = BitField.Set(Qw1, 44, 2, value); }

    /// <summary>S2VMID, qw2[15:0].</summary>
    public ushort S2Vmid { readonly get => (ushort)BitField.Get(Qw2, 0, 16); set => Qw2 = BitField.Set(Qw2, 0, 16, value); }

    /// <summary>S2T0SZ, qw2[37:32]: the IPA size is 64 − S2T0SZ.</summary>
    public int S2T0Sz { readonly get => (int)BitField.Get(Qw2, 32, 6); set => Qw2 = BitField.Set(Qw2, 32, 6, (ulong)value); }

    /// <summary>S2SL0, qw2[39:38]: the stage-2 start level (see <see cref="Stage2StartLevel"/>).</summary>
    public ulong S2Sl0 { readonly get => BitField.Get(Qw2, 38, 2); set => Qw2 = BitField.Set(Qw2, 38, 2, value); }

    /// <summary>S2IR0, qw2[41:40].</summary>
    public ulong S2Ir0 { readonly get => BitField.Get(Qw2, 40, 2); set => Qw2 = BitField.Set(Qw2, 40, 2, value); }

    /// <summary>S2OR0, qw2[43:42].</summary>
    public ulong S2Or0 { readonly get => BitField.Get(Qw2, 42, 2); set => Qw2 = BitField.Set(Qw2, 42, 2, value); }

    /// <summary>S2SH0, qw2[45:44].</summary>
    public ulong S2Sh0 { readonly get => BitField.Get(Qw2, 44, 2); set => Qw2 = BitField.Set(Qw2, 44, 2, value); }

    /// <summary>S2TG, qw2[47:46]: 0 = 4 KiB, 1 = 64 KiB, 2 = 16 KiB.</summary>
    public ulong S2Tg { readonly get => BitField.Get(Qw2, 46, 2); set => Qw2 = BitField.Set(Qw2, 46, 2, value); }

    /// <summary>S2PS, qw2[50:48]: output size (<see cref="AddressSize"/> encoding).</summary>
    public ulong S2Ps { readonly get => BitField.Get(Qw2, 48, 3); set => Qw2 = BitField.Set(Qw2, 48, 3, value); }

    /// <summary>S2AA64, qw2[51]: AArch64 tables.</summary>
    public bool S2Aa64 { readonly get => BitField.Bit(Qw2, 51); set => Qw2 = BitField.SetBit(Qw2, 51, value); }

    /// <summary>S2ENDI, qw2[52]: big-endian tables.</summary>
    public bool S2Endi { readonly get => BitField.Bit(Qw2, 52); set => Qw2 = BitField.SetBit(Qw2, 52, value); }

    /// <summary>S2AFFD, qw2[53]: access-flag fault disable.</summary>
    public bool S2Affd { readonly get => BitField.Bit(Qw2, 53); set => Qw2 = BitField.SetBit(Qw2, 53, value); }

    /// <summary>S2PTW, qw2[54]: protected table walk.</summary>
    public bool S2Ptw { readonly get => BitField.Bit(Qw2, 54); set => Qw2 = BitField.SetBit(Qw2, 54, value); }

    /// <summary>S2S, qw2[57]: stall on stage-2 faults.</summary>
    public bool S2Stall { readonly get => BitField.Bit(Qw2, 57); set => Qw2 = BitField.SetBit(Qw2, 57, value); }

    /// <summary>S2R, qw2[58]: record stage-2 faults.</summary>
    public bool S2Record { readonly get => BitField.Bit(Qw2, 58); set => Qw2 = BitField.SetBit(Qw2, 58, value); }

    /// <summary>S2TTB, qw3[51:4]: the stage-2 table base.</summary>
    public PhysAddr S2Ttb { readonly get => new(Qw3 & BitField.Mask(4, 48)); set => Qw3 = (Qw3 & ~BitField.Mask(4, 48)) | (value.Value & BitField.Mask(4, 48)); }

    /// <summary>The stage-2 start level S2SL0 selects for <paramref name="granule"/>: 4 KiB 0/1/2 → 2/1/0, 16/64 KiB 0/1/2 → 3/2/1; −1 when reserved.</summary>
    public static int Stage2StartLevel(TranslationGranule granule, ulong sl0) =>
        sl0 > 2 ? -1 : granule == TranslationGranule.Size4K ? 2 - (int)sl0 : 3 - (int)sl0;

    /// <summary>The S2SL0 encoding of <paramref name="startLevel"/>; the inverse of <see cref="Stage2StartLevel"/>.</summary>
    public static ulong Stage2Sl0(TranslationGranule granule, int startLevel) =>
        (ulong)(granule == TranslationGranule.Size4K ? 2 - startLevel : 3 - startLevel);

    /// <inheritdoc />
    public override readonly string ToString() =>
        $"STE {Qw0:x16} {Qw1:x16} {Qw2:x16} {Qw3:x16} (V={(Valid ? 1 : 0)} Config={(SteConfig)RawConfig})";
}
