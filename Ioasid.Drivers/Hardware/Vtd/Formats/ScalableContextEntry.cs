namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// A scalable-mode 256-bit context entry (VT-d spec §9.4; drivers.md §2.4), 128 per context-table page, indexed by
/// devfn &amp; 0x7F. <c>qw0</c>: P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, reserved 8:5, PDTS 11:9, PASIDDIRPTR 63:12.
/// <c>qw1</c>: RID_PASID 19:0, RID_PRIV 20, reserved 63:21. <c>qw2</c> and <c>qw3</c> are reserved. The domain id is
/// not here: in scalable mode it lives in each PASID-table entry.
/// </summary>
/// <param name="Q0">Bits 63:0.</param>
/// <param name="Q1">Bits 127:64.</param>
/// <param name="Q2">Bits 191:128 (reserved).</param>
/// <param name="Q3">Bits 255:192 (reserved).</param>
public readonly record struct ScalableContextEntry(ulong Q0, ulong Q1, ulong Q2 = 0, ulong Q3 = 0)
{
    /// <summary>Size of one entry in bytes.</summary>
    public const int Size = 32;

    /// <summary>P: bit 0.</summary>
    public const ulong PresentBit = 1UL << 0;

    /// <summary>FPD: bit 1.</summary>
    public const ulong FaultProcessingDisableBit = 1UL << 1;

    /// <summary>DTE (device-TLB enable): bit 2.</summary>
    public const ulong DeviceTlbEnableBit = 1UL << 2;

    /// <summary>PASIDE (requests with PASID accepted): bit 3.</summary>
    public const ulong PasidEnableBit = 1UL << 3;

    /// <summary>PRE (page requests enabled): bit 4.</summary>
    public const ulong PageRequestEnableBit = 1UL << 4;

    /// <summary>qw0 reserved bits 8:5.</summary>
    public const ulong ReservedQ0 = 0x1E0UL;

    /// <summary>PDTS: bits 11:9; the directory has 2^(PDTS + 7) entries.</summary>
    public const int DirectorySizeShift = 9;

    /// <summary>qw1 RID_PASID: bits 19:0.</summary>
    public const ulong RidPasidMask = (1UL << 20) - 1;

    /// <summary>qw1 reserved bits 63:21.</summary>
    public const ulong ReservedQ1 = ~((1UL << 21) - 1);

    /// <summary>
    /// A present entry whose PASID directory at <paramref name="directory"/> holds <paramref name="directoryEntries"/>
    /// entries (a power of two, at least 128), with RID traffic translated through PASID <paramref name="ridPasid"/>;
    /// <paramref name="deviceTlb"/> sets DTE (the device may use ATS).
    /// </summary>
    public static ScalableContextEntry Create(PhysAddr directory, uint directoryEntries, bool pasidEnable, uint ridPasid = 0, bool deviceTlb = false)
    {
        ulong pdts = (ulong)(System.Numerics.BitOperations.Log2(System.Math.Max(directoryEntries, 128u)) - 7);
        return new ScalableContextEntry(
            directory.Value | (pdts << DirectorySizeShift) | (pasidEnable ? PasidEnableBit : 0) | (deviceTlb ? DeviceTlbEnableBit : 0) | PresentBit,
            ridPasid & RidPasidMask);
    }

    /// <summary>P.</summary>
    public bool Present => (Q0 & PresentBit) != 0;

    /// <summary>FPD.</summary>
    public bool FaultProcessingDisable => (Q0 & FaultProcessingDisableBit) != 0;

    /// <summary>DTE: ATS translation requests and translated requests are allowed.</summary>
    public bool DeviceTlbEnable => (Q0 & DeviceTlbEnableBit) != 0;

    /// <summary>PASIDE.</summary>
    public bool PasidEnable => (Q0 & PasidEnableBit) != 0;

    /// <summary>PDTS.</summary>
    public int DirectorySizeField => (int)((Q0 >> DirectorySizeShift) & 7);

    /// <summary>Entries of the PASID directory: 2^(PDTS + 7).</summary>
    public uint DirectoryEntries => 1u << (DirectorySizeField + 7);

    /// <summary>PASIDDIRPTR.</summary>
    public PhysAddr PasidDirectory => new(Q0 & RootEntry.PageMask);

    /// <summary>RID_PASID: the PASID whose entry translates requests without PASID.</summary>
    public uint RidPasid => (uint)(Q1 & RidPasidMask);

    /// <summary>Whether reserved bits are set.</summary>
    public bool HasReservedBits(int haw) =>
        (Q0 & (ReservedQ0 | RootEntry.AddressBitsAbove(haw))) != 0 || (Q1 & ReservedQ1) != 0 || Q2 != 0 || Q3 != 0;

    /// <inheritdoc />
    public override string ToString() => $"{Q3:x16}:{Q2:x16}:{Q1:x16}:{Q0:x16}";
}
