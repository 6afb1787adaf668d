namespace Ioasid.Drivers.Smmu;

/// <summary>
/// A Context Descriptor (64 bytes; SMMUv3 §5.4, drivers.md §3.5) as named bit fields over its first four qwords
/// (qw4–qw7 are written as zero). The driver writes it into the master's CD table; the hardware decodes it.
/// </summary>
public struct ContextDescriptor
{
    /// <summary>Size of a CD in bytes.</summary>
    public const int Size = 64;

    /// <summary>Qword 0: TCR-like fields, V, IPS, AFFD, AA64, R, A, ASET, ASID.</summary>
    public ulong Qw0;

    /// <summary>Qword 1: NSCFG0, HAD0, TTB0.</summary>
    public ulong Qw1;

    /// <summary>Qword 2: HAD1, TTB1.</summary>
    public ulong Qw2;

    /// <summary>Qword 3: MAIR.</summary>
    public ulong Qw3;

    /// <summary>Creates a CD from its first four qwords.</summary>
    public ContextDescriptor(ulong qw0, ulong qw1, ulong qw2, ulong qw3)
    {
        Qw0 = qw0;
        Qw1 = qw1;
        Qw2 = qw2;
        Qw3 = qw3;
    }

    /// <summary>T0SZ, qw0[5:0]: the TTB0 input size is 64 − T0SZ.</summary>
    public int T0Sz { readonly get => (int)BitField.Get(Qw0, 0, 6); set => Qw0 = BitField.Set(Qw0, 0, 6, (ulong)value); }

    /// <summary>TG0, qw0[7:6]: 0 = 4 KiB, 1 = 64 KiB, 2 = 16 KiB.</summary>
    public ulong Tg0 { readonly get => BitField.Get(Qw0, 6, 2); set => Qw0 = BitField.Set(Qw0, 6, 2, value); }

    /// <summary>IR0, qw0[9:8].</summary>
    public ulong Ir0 { readonly get => BitField.Get(Qw0, 8, 2); set => Qw0 = BitField.Set(Qw0, 8, 2, value); }

    /// <summary>OR0, qw0[11:10].</summary>
    public ulong Or0 { readonly get => BitField.Get(Qw0, 10, 2); set => Qw0 = BitField.Set(Qw0, 10, 2, value); }

    /// <summary>SH0, qw0[13:12].</summary>
    public ulong Sh0 { readonly get => BitField.Get(Qw0, 12, 2); set => Qw0 = BitField.Set(Qw0, 12, 2, value); }

    /// <summary>EPD0, qw0[14]: TTB0 walks disabled.</summary>
    public bool Epd0 { readonly get => BitField.Bit(Qw0, 14); set => Qw0 = BitField.SetBit(Qw0, 14, value); }

    /// <summary>ENDI, qw0[15]: big-endian tables.</summary>
    public bool Endi { readonly get => BitField.Bit(Qw0, 15); set => Qw0 = BitField.SetBit(Qw0, 15, value); }

    /// <summary>T1SZ, qw0[21:16].</summary>
    public int T1Sz { readonly get => (int)BitField.Get(Qw0, 16, 6); set => Qw0 = BitField.Set(Qw0, 16, 6, (ulong)value); }

    /// <summary>EPD1, qw0[30]: TTB1 walks disabled (Linux always sets it).</summary>
    public bool Epd1 { readonly get => BitField.Bit(Qw0, 30); set => Qw0 = BitField.SetBit(Qw0, 30, value); }

    /// <summary>V, qw0[31].</summary>
    public bool Valid { readonly get => BitField.Bit(Qw0, 31); set => Qw0 = BitField.SetBit(Qw0, 31, value); }

    /// <summary>IPS, qw0[34:32]: output size (<see cref="AddressSize"/> encoding).</summary>
    public ulong Ips { readonly get => BitField.Get(Qw0, 32, 3); set => Qw0 = BitField.Set(Qw0, 32, 3, value); }

    /// <summary>AFFD, qw0[35]: access-flag fault disable.</summary>
    public bool Affd { readonly get => BitField.Bit(Qw0, 35); set => Qw0 = BitField.SetBit(Qw0, 35, value); }

    /// <summary>TBI, qw0[39:38]: top-byte ignore (not modelled: must be 0).</summary>
    public ulong Tbi { readonly get => BitField.Get(Qw0, 38, 2); set => Qw0 = BitField.Set(Qw0, 38, 2, value); }

    /// <summary>AA64, qw0[41]: AArch64 tables.</summary>
    public bool Aa64 { readonly get => BitField.Bit(Qw0, 41); set => Qw0 = BitField.SetBit(Qw0, 41, value); }

    /// <summary>HD, qw0[42]: hardware dirty-state update.</summary>
    public bool Hd { readonly get => BitField.Bit(Qw0, 42); set => Qw0 = BitField.SetBit(Qw0, 42, value); }

    /// <summary>HA, qw0[43]: hardware access-flag update.</summary>
    public bool Ha { readonly get => BitField.Bit(Qw0, 43); set => Qw0 = BitField.SetBit(Qw0, 43, value); }

    /// <summary>S, qw0[44]: stall on faults.</summary>
    public bool Stall { readonly get => BitField.Bit(Qw0, 44); set => Qw0 = BitField.SetBit(Qw0, 44, value); }

    /// <summary>R, qw0[45]: record faults.</summary>
    public bool Record { readonly get => BitField.Bit(Qw0, 45); set => Qw0 = BitField.SetBit(Qw0, 45, value); }

    /// <summary>A, qw0[46]: abort faulting transactions.</summary>
    public bool Abort { readonly get => BitField.Bit(Qw0, 46); set => Qw0 = BitField.SetBit(Qw0, 46, value); }

    /// <summary>ASET, qw0[47]: the ASID is not shared with CPU broadcast TLB maintenance.</summary>
    public bool Aset { readonly get => BitField.Bit(Qw0, 47); set => Qw0 = BitField.SetBit(Qw0, 47, value); }

    /// <summary>ASID, qw0[63:48].</summary>
    public ushort Asid { readonly get => (ushort)BitField.Get(Qw0, 48, 16); set => Qw0 = BitField.Set(Qw0, 48, 16, value); }

    /// <summary>HAD0, qw1[1]: ignore APTable/XNTable in TTB0 tables.</summary>
    public bool Had0 { readonly get => BitField.Bit(Qw1, 1); set => Qw1 = BitField.SetBit(Qw1, 1, value); }

    /// <summary>TTB0, qw1[51:4].</summary>
    public PhysAddr Ttb0 { readonly get => new(Qw1 & BitField.Mask(4, 48)); set => Qw1 = (Qw1 & ~BitField.Mask(4, 48)) | (value.Value & BitField.Mask(4, 48)); }

    /// <summary>MAIR, qw3.</summary>
    public ulong Mair { readonly get => Qw3; set => Qw3 = value; }

    /// <inheritdoc />
    public override readonly string ToString() =>
        $"CD {Qw0:x16} {Qw1:x16} {Qw2:x16} {Qw3:x16} (V={(Valid ? 1 : 0)} ASID={Asid} T0SZ={T0Sz} TG0={Tg0} TTB0={Ttb0})";
}
