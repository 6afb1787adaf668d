namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// VT-d fault reason codes (the FR field of a fault record; spec Appendix A as QEMU and drivers.md §2.10 list them).
/// Second-stage and context conditions use the legacy codes in scalable mode too, as QEMU does.
/// </summary>
public enum VtdFaultReason : byte
{
    /// <summary>No fault.</summary>
    None = 0x00,

    /// <summary>1h: root entry not present.</summary>
    RootEntryNotPresent = 0x01,

    /// <summary>2h: context entry not present.</summary>
    ContextEntryNotPresent = 0x02,

    /// <summary>3h: context entry invalid (unsupported AW or TT).</summary>
    ContextEntryInvalid = 0x03,

    /// <summary>4h: input address above 2^min(AW, MGAW) − 1.</summary>
    AddressBeyondWidth = 0x04,

    /// <summary>5h: write not permitted (second stage).</summary>
    WriteNotPermitted = 0x05,

    /// <summary>6h: read not permitted (second stage), or a not-present second-stage entry.</summary>
    ReadNotPermitted = 0x06,

    /// <summary>7h: error reading a second-stage entry.</summary>
    SecondStageReadError = 0x07,

    /// <summary>8h: error reading the root table.</summary>
    RootTableReadError = 0x08,

    /// <summary>9h: error reading the context table.</summary>
    ContextTableReadError = 0x09,

    /// <summary>Ah: reserved bits in a present root entry.</summary>
    RootEntryReserved = 0x0A,

    /// <summary>Bh: reserved bits in a present context entry.</summary>
    ContextEntryReserved = 0x0B,

    /// <summary>Ch: reserved bits in a present second-stage entry.</summary>
    SecondStageEntryReserved = 0x0C,

    /// <summary>Dh: request blocked by the context entry's TT.</summary>
    BlockedByTranslationType = 0x0D,

    /// <summary>Eh: output address in the interrupt range (legacy).</summary>
    InterruptRange = 0x0E,

    /// <summary>50h: PASID-directory read error.</summary>
    PasidDirectoryReadError = 0x50,

    /// <summary>51h: PASID-directory entry not present.</summary>
    PasidDirectoryEntryNotPresent = 0x51,

    /// <summary>58h: PASID-table read error.</summary>
    PasidTableReadError = 0x58,

    /// <summary>59h: PASID-table entry not present.</summary>
    PasidEntryNotPresent = 0x59,

    /// <summary>5Bh: invalid PASID-table entry (PGTT or level not supported, reserved bits).</summary>
    PasidEntryInvalid = 0x5B,

    /// <summary>70h: error reading a first-stage entry.</summary>
    FirstStageReadError = 0x70,

    /// <summary>71h: first-stage entry not present.</summary>
    FirstStageNotPresent = 0x71,

    /// <summary>72h: reserved bits in a present first-stage entry.</summary>
    FirstStageReserved = 0x72,

    /// <summary>80h: first-stage input address not canonical.</summary>
    NonCanonical = 0x80,

    /// <summary>81h: first-stage privilege (U/S) violation.</summary>
    FirstStagePrivilege = 0x81,

    /// <summary>85h: write not permitted (first stage, scalable mode).</summary>
    FirstStageWriteNotPermitted = 0x85,

    /// <summary>87h: output address in the interrupt range (scalable mode).</summary>
    ScalableInterruptRange = 0x87,
}
