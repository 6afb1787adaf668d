namespace Ioasid.Drivers.Smmu;

/// <summary>
/// Register offsets and fields of an SMMUv3 programming interface (drivers.md §3.1–3.2). The event queue's PROD and
/// CONS live in register page 1 (+0x10000).
/// </summary>
public static class SmmuRegisters
{
    /// <summary>IDR0.</summary>
    public const int Idr0 = 0x00;

    /// <summary>IDR1.</summary>
    public const int Idr1 = 0x04;

    /// <summary>IDR2.</summary>
    public const int Idr2 = 0x08;

    /// <summary>IDR3.</summary>
    public const int Idr3 = 0x0C;

    /// <summary>IDR4.</summary>
    public const int Idr4 = 0x10;

    /// <summary>IDR5.</summary>
    public const int Idr5 = 0x14;

    /// <summary>IIDR.</summary>
    public const int Iidr = 0x18;

    /// <summary>AIDR.</summary>
    public const int Aidr = 0x1C;

    /// <summary>CR0: SMMUEN 0, PRIQEN 1, EVTQEN 2, CMDQEN 3.</summary>
    public const int Cr0 = 0x20;

    /// <summary>CR0ACK: reflects CR0 once it has taken effect.</summary>
    public const int Cr0Ack = 0x24;

    /// <summary>CR1: table and queue attributes.</summary>
    public const int Cr1 = 0x28;

    /// <summary>CR2.</summary>
    public const int Cr2 = 0x2C;

    /// <summary>GBPA: ABORT bit 20, UPDATE bit 31.</summary>
    public const int Gbpa = 0x44;

    /// <summary>GERROR: CMDQ_ERR bit 0.</summary>
    public const int Gerror = 0x60;

    /// <summary>GERRORN: an error is active while its bit differs from GERROR's.</summary>
    public const int Gerrorn = 0x64;

    /// <summary>STRTAB_BASE (64-bit): ADDR [51:6].</summary>
    public const int StrtabBase = 0x80;

    /// <summary>STRTAB_BASE_CFG: LOG2SIZE [5:0], SPLIT [10:6], FMT [17:16].</summary>
    public const int StrtabBaseCfg = 0x88;

    /// <summary>CMDQ_BASE (64-bit): ADDR [51:5], LOG2SIZE [4:0].</summary>
    public const int CmdqBase = 0x90;

    /// <summary>CMDQ_PROD.</summary>
    public const int CmdqProd = 0x98;

    /// <summary>CMDQ_CONS: index and wrap, ERR [30:24].</summary>
    public const int CmdqCons = 0x9C;

    /// <summary>EVTQ_BASE (64-bit): ADDR [51:5], LOG2SIZE [4:0].</summary>
    public const int EvtqBase = 0xA0;

    /// <summary>EVTQ_PROD (page 1): index and wrap, OVFLG bit 31.</summary>
    public const int EvtqProd = 0x100A8;

    /// <summary>EVTQ_CONS (page 1): index and wrap, OVACKFLG bit 31.</summary>
    public const int EvtqCons = 0x100AC;

    /// <summary>CR0.SMMUEN.</summary>
    public const uint Cr0SmmuEn = 1u << 0;

    /// <summary>CR0.EVTQEN.</summary>
    public const uint Cr0EvtqEn = 1u << 2;

    /// <summary>CR0.CMDQEN.</summary>
    public const uint Cr0CmdqEn = 1u << 3;

    /// <summary>GBPA.ABORT: with SMMUEN = 0, abort every transaction (else bypass).</summary>
    public const uint GbpaAbort = 1u << 20;

    /// <summary>GBPA.UPDATE: a write without it is ignored.</summary>
    public const uint GbpaUpdate = 1u << 31;

    /// <summary>GERROR.CMDQ_ERR.</summary>
    public const uint GerrorCmdqErr = 1u << 0;

    /// <summary>STRTAB_BASE_CFG.FMT value of a linear stream table.</summary>
    public const uint StrtabFmtLinear = 0;

    /// <summary>STRTAB_BASE_CFG.FMT value of a two-level stream table.</summary>
    public const uint StrtabFmtTwoLevel = 1;

    /// <summary>The position of CMDQ_CONS.ERR.</summary>
    public const int CmdqConsErrShift = 24;

    /// <summary>CMDQ_CONS.ERR: no error.</summary>
    public const uint CerrorNone = 0;

    /// <summary>CMDQ_CONS.ERR: illegal command.</summary>
    public const uint CerrorIll = 1;

    /// <summary>CMDQ_CONS.ERR: abort reading the command.</summary>
    public const uint CerrorAbt = 2;

    /// <summary>EVTQ_PROD.OVFLG / EVTQ_CONS.OVACKFLG.</summary>
    public const uint QueueOverflowFlag = 1u << 31;

    /// <summary>STRTAB_BASE_CFG for a table of 2^<paramref name="log2Size"/> StreamIDs.</summary>
    public static uint StrtabBaseCfgValue(int log2Size, int split, bool twoLevel) =>
        (uint)(log2Size & 0x3F) | ((uint)(split & 0x1F) << 6) | ((twoLevel ? StrtabFmtTwoLevel : StrtabFmtLinear) << 16);

    /// <summary>A queue base register value for a queue of 2^<paramref name="log2Size"/> entries at <paramref name="address"/>.</summary>
    public static ulong QueueBaseValue(PhysAddr address, int log2Size) => (address.Value & BitField.Mask(5, 47)) | (uint)(log2Size & 0x1F);
}
