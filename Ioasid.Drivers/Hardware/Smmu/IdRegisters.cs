using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// The configurable identification of an SMMUv3 model: what it implements, as IDR0–IDR5 report it (drivers.md §3.1).
/// Set the properties, then read the raw registers (<see cref="Idr0"/>…); the hardware honours what they say
/// (an unimplemented stage or granule in an STE/CD is C_BAD_STE/C_BAD_CD).
/// </summary>
public sealed record IdRegisters
{
    /// <summary>IDR0.S1P: stage 1 implemented.</summary>
    public bool Stage1 { get; init; } = true;

    /// <summary>IDR0.S2P: stage 2 implemented.</summary>
    public bool Stage2 { get; init; } = true;

    /// <summary>IDR0.ST_LEVEL = 1: two-level stream tables supported.</summary>
    public bool TwoLevelStreamTable { get; init; } = true;

    /// <summary>IDR0.CD2L: two-level CD tables supported.</summary>
    public bool TwoLevelCdTable { get; init; } = true;

    /// <summary>IDR0.ASID16: 16-bit ASIDs (else 8).</summary>
    public bool Asid16 { get; init; } = true;

    /// <summary>IDR0.VMID16: 16-bit VMIDs (else 8).</summary>
    public bool Vmid16 { get; init; } = true;

    /// <summary>IDR0.COHACC: coherent table and queue access.</summary>
    public bool Coherent { get; init; } = true;

    /// <summary>IDR0.TERM_MODEL: terminated transactions always abort (CD.A must be 1).</summary>
    public bool TermModel { get; init; }

    /// <summary>IDR0.STALL_MODEL: 1 = terminate only (no stalls), the model's only mode.</summary>
    public uint StallModel { get; init; } = 1;

    /// <summary>
    /// IDR0.HTTU, bits 7:6: hardware translation-table updates — 0 none, 1 access flag (CD.HA), 2 access flag and dirty
    /// state (CD.HA and CD.HD; what dirty tracking needs). 0 by default.
    /// </summary>
    public uint Httu { get; init; }

    /// <summary>Whether <see cref="Httu"/> covers the dirty state (2).</summary>
    public bool HardwareDirty => Httu >= 2;

    /// <summary>IDR0.ATS.</summary>
    public bool Ats { get; init; }

    /// <summary>IDR1.SIDSIZE: StreamID bits.</summary>
    public int SidBits { get; init; } = 16;

    /// <summary>IDR1.SSIDSIZE: SubstreamID bits (0 = no substreams).</summary>
    public int SsidBits { get; init; } = 20;

    /// <summary>IDR1.CMDQS: log2 of the largest command queue.</summary>
    public int CmdqShift { get; init; } = 19;

    /// <summary>IDR1.EVTQS: log2 of the largest event queue.</summary>
    public int EvtqShift { get; init; } = 19;

    /// <summary>IDR1.ATTR_TYPES_OVR: attribute overrides supported.</summary>
    public bool AttributeOverrides { get; init; } = true;

    /// <summary>IDR3.RIL: range invalidation.</summary>
    public bool RangeInvalidation { get; init; } = true;

    /// <summary>IDR3.BBML.</summary>
    public uint Bbml { get; init; }

    /// <summary>IDR5.OAS in bits (32, 36, 40, 42, 44, 48 or 52).</summary>
    public int OutputBits { get; init; } = 48;

    /// <summary>IDR5.GRAN4K.</summary>
    public bool Granule4K { get; init; } = true;

    /// <summary>IDR5.GRAN16K.</summary>
    public bool Granule16K { get; init; } = true;

    /// <summary>IDR5.GRAN64K.</summary>
    public bool Granule64K { get; init; } = true;

    /// <summary>IDR5.VAX: 0 = 48-bit VAs, 1 = 52-bit.</summary>
    public uint Vax { get; init; }

    /// <summary>IIDR (implementation identification).</summary>
    public uint ImplementationId { get; init; } = 0x0000_043B;

    /// <summary>AIDR: architecture version 3.2 (minor version 2).</summary>
    public uint ArchitectureId { get; init; } = 2;

    /// <summary>Whether <paramref name="granule"/> is implemented.</summary>
    public bool Supports(TranslationGranule granule) => granule switch
    {
        TranslationGranule.Size4K => Granule4K,
        TranslationGranule.Size16K => Granule16K,
        TranslationGranule.Size64K => Granule64K,
        _ => false,
    };

    /// <summary>The raw IDR0.</summary>
    public uint Idr0 =>
        (Stage2 ? 1u : 0) | (Stage1 ? 1u << 1 : 0)
        | (2u << 2) // TTF: AArch64 tables only
        | (Coherent ? 1u << 4 : 0)
        | ((Httu & 3) << 6)
        | (Ats ? 1u << 10 : 0)
        | (Asid16 ? 1u << 12 : 0)
        | (Vmid16 ? 1u << 18 : 0)
        | (TwoLevelCdTable ? 1u << 19 : 0)
        | (2u << 21) // TTENDIAN: little-endian
        | ((StallModel & 3) << 24)
        | (TermModel ? 1u << 26 : 0)
        | (TwoLevelStreamTable ? 1u << 27 : 0);

    /// <summary>The raw IDR1.</summary>
    public uint Idr1 =>
        ((uint)SidBits & 0x3F) | (((uint)SsidBits & 0x1F) << 6) | (((uint)EvtqShift & 0x1F) << 16) | (((uint)CmdqShift & 0x1F) << 21)
        | (AttributeOverrides ? 1u << 27 : 0);

    /// <summary>The raw IDR2 (no VATOS).</summary>
    public uint Idr2 => 0;

    /// <summary>The raw IDR3.</summary>
    public uint Idr3 => (RangeInvalidation ? 1u << 10 : 0) | ((Bbml & 3) << 11);

    /// <summary>The raw IDR4 (implementation defined: 0).</summary>
    public uint Idr4 => 0;

    /// <summary>The raw IDR5.</summary>
    public uint Idr5 =>
        (uint)AddressSize.FromBits(OutputBits) | (Granule4K ? 1u << 4 : 0) | (Granule16K ? 1u << 5 : 0) | (Granule64K ? 1u << 6 : 0)
        | ((Vax & 3) << 10);

    /// <summary>Decodes raw registers (what a driver does at probe).</summary>
    public static IdRegisters FromRaw(uint idr0, uint idr1, uint idr3, uint idr5) => new()
    {
        Stage2 = (idr0 & 1) != 0,
        Stage1 = (idr0 & 2) != 0,
        Coherent = (idr0 & (1u << 4)) != 0,
        Httu = (idr0 >> 6) & 3,
        Ats = (idr0 & (1u << 10)) != 0,
        Asid16 = (idr0 & (1u << 12)) != 0,
        Vmid16 = (idr0 & (1u << 18)) != 0,
        TwoLevelCdTable = (idr0 & (1u << 19)) != 0,
        StallModel = (idr0 >> 24) & 3,
        TermModel = (idr0 & (1u << 26)) != 0,
        TwoLevelStreamTable = ((idr0 >> 27) & 3) == 1,
        SidBits = (int)(idr1 & 0x3F),
        SsidBits = (int)((idr1 >> 6) & 0x1F),
        EvtqShift = (int)((idr1 >> 16) & 0x1F),
        CmdqShift = (int)((idr1 >> 21) & 0x1F),
        AttributeOverrides = (idr1 & (1u << 27)) != 0,
        RangeInvalidation = (idr3 & (1u << 10)) != 0,
        Bbml = (idr3 >> 11) & 3,
        OutputBits = AddressSize.ToBits(idr5 & 7),
        Granule4K = (idr5 & (1u << 4)) != 0,
        Granule16K = (idr5 & (1u << 5)) != 0,
        Granule64K = (idr5 & (1u << 6)) != 0,
        Vax = (idr5 >> 10) & 3,
    };
}
