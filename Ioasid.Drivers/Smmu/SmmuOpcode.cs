namespace Ioasid.Drivers.Smmu;

/// <summary>Command opcodes, qw0[7:0] of a 16-byte command-queue entry (SMMUv3 §4; drivers.md §3.7).</summary>
public enum SmmuOpcode : byte
{
    /// <summary>PREFETCH_CONFIG (a hint; ignored).</summary>
    PrefetchConfig = 0x01,

    /// <summary>PREFETCH_ADDR (a hint; ignored).</summary>
    PrefetchAddr = 0x02,

    /// <summary>CFGI_STE: drop the cached STE of one StreamID.</summary>
    CfgiSte = 0x03,

    /// <summary>CFGI_STE_RANGE: drop 2^(Range + 1) STEs (CFGI_ALL is Range = 31).</summary>
    CfgiSteRange = 0x04,

    /// <summary>CFGI_CD: drop one cached CD (StreamID, SubstreamID).</summary>
    CfgiCd = 0x05,

    /// <summary>CFGI_CD_ALL: drop every cached CD of a StreamID.</summary>
    CfgiCdAll = 0x06,

    /// <summary>TLBI_NH_ALL: every stage-1 (and nested) entry of a VMID.</summary>
    TlbiNhAll = 0x10,

    /// <summary>TLBI_NH_ASID: every entry of (VMID, ASID).</summary>
    TlbiNhAsid = 0x11,

    /// <summary>TLBI_NH_VA: entries of (VMID, ASID) for an address or range.</summary>
    TlbiNhVa = 0x12,

    /// <summary>TLBI_NH_VAA: entries of a VMID for an address or range, any ASID.</summary>
    TlbiNhVaa = 0x13,

    /// <summary>TLBI_EL2_ALL (E2H configurations; accepted, invalidates everything).</summary>
    TlbiEl2All = 0x20,

    /// <summary>TLBI_S12_VMALL: every stage-1, stage-2 and combined entry of a VMID.</summary>
    TlbiS12Vmall = 0x28,

    /// <summary>TLBI_S2_IPA: stage-2-only entries of a VMID for an IPA or range.</summary>
    TlbiS2Ipa = 0x2A,

    /// <summary>TLBI_NSNH_ALL: everything.</summary>
    TlbiNsnhAll = 0x30,

    /// <summary>ATC_INV: invalidate a device's address-translation cache.</summary>
    AtcInv = 0x40,

    /// <summary>PRI_RESP.</summary>
    PriResp = 0x41,

    /// <summary>RESUME.</summary>
    Resume = 0x44,

    /// <summary>STALL_TERM.</summary>
    StallTerm = 0x45,

    /// <summary>CMD_SYNC: completes when every earlier command has taken effect.</summary>
    CmdSync = 0x46,
}
