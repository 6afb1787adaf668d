namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// MMIO register offsets of a VT-d unit and the bits of its command and status registers (VT-d spec §11.4;
/// drivers.md §2.1). The driver programs a <see cref="VtdIommuHardware"/> only through these.
/// </summary>
public static class VtdRegisters
{
    /// <summary>VER (32-bit).</summary>
    public const int Version = 0x00;

    /// <summary>CAP (64-bit).</summary>
    public const int Capability = 0x08;

    /// <summary>ECAP (64-bit).</summary>
    public const int ExtendedCapability = 0x10;

    /// <summary>GCMD (32-bit, write-only commands).</summary>
    public const int GlobalCommand = 0x18;

    /// <summary>GSTS (32-bit, status at the same bit positions as GCMD).</summary>
    public const int GlobalStatus = 0x1C;

    /// <summary>RTADDR (64-bit): root table 63:12, TTM 11:10 (01b scalable).</summary>
    public const int RootTableAddress = 0x20;

    /// <summary>FSTS (32-bit).</summary>
    public const int FaultStatus = 0x34;

    /// <summary>FECTL (32-bit): IM 31, IP 30.</summary>
    public const int FaultEventControl = 0x38;

    /// <summary>IQH (64-bit): the next descriptor the hardware reads, index at 18:4 (18:5 for 256-bit).</summary>
    public const int QueueHead = 0x80;

    /// <summary>IQT (64-bit): one past the last descriptor software wrote.</summary>
    public const int QueueTail = 0x88;

    /// <summary>IQA (64-bit): base 63:12, DW 11, QS 2:0.</summary>
    public const int QueueAddress = 0x90;

    /// <summary>ICS (32-bit): IWC 0.</summary>
    public const int CompletionStatus = 0x9C;

    /// <summary>IQERCD (64-bit): IQEI 3:0.</summary>
    public const int QueueErrorRecord = 0xB0;

    /// <summary>GCMD/GSTS TE: translation enable.</summary>
    public const uint TranslationEnable = 1u << 31;

    /// <summary>GCMD/GSTS SRTP: set root-table pointer (latches RTADDR).</summary>
    public const uint SetRootTablePointer = 1u << 30;

    /// <summary>GCMD/GSTS QIE: queued invalidation enable.</summary>
    public const uint QueuedInvalidationEnable = 1u << 26;

    /// <summary>RTADDR TTM = 01b: scalable-mode translation tables (bit 10).</summary>
    public const ulong ScalableModeTables = 1UL << 10;

    /// <summary>FSTS PFO: primary fault overflow.</summary>
    public const uint PrimaryFaultOverflow = 1u << 0;

    /// <summary>FSTS PPF: primary pending fault (read-only: some FRCD has F set).</summary>
    public const uint PrimaryPendingFault = 1u << 1;

    /// <summary>FSTS IQE: invalidation queue error.</summary>
    public const uint InvalidationQueueError = 1u << 4;

    /// <summary>FSTS FRI: bits 15:8, index of the first pending fault record.</summary>
    public const int FaultRecordIndexShift = 8;

    /// <summary>FECTL IM: interrupt mask.</summary>
    public const uint InterruptMask = 1u << 31;

    /// <summary>FECTL IP: interrupt pending.</summary>
    public const uint InterruptPending = 1u << 30;

    /// <summary>ICS IWC: invalidation wait descriptor complete.</summary>
    public const uint WaitComplete = 1u << 0;

    /// <summary>IQA DW: 256-bit descriptors.</summary>
    public const ulong DescriptorWidth256 = 1UL << 11;
}
