namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>Field positions of the CAP register (VT-d spec §11.4.2; drivers.md §2.2).</summary>
public static class VtdCapRegister
{
    /// <summary>ND: bits 2:0; 2^(4 + 2·ND) domain ids.</summary>
    public const int NumberOfDomainsShift = 0;

    /// <summary>RWBF: bit 4.</summary>
    public const int RequiredWriteBufferFlushBit = 4;

    /// <summary>CM (caching mode): bit 7.</summary>
    public const int CachingModeBit = 7;

    /// <summary>SAGAW: bits 12:8 (bit 9 = 39-bit, bit 10 = 48-bit, bit 11 = 57-bit).</summary>
    public const int SagawShift = 8;

    /// <summary>MGAW: bits 21:16, the maximum guest address width − 1.</summary>
    public const int MgawShift = 16;

    /// <summary>FRO: bits 33:24, the fault-recording register offset / 16.</summary>
    public const int FaultRecordingOffsetShift = 24;

    /// <summary>SSLPS bit for 2 MiB second-stage pages: 34.</summary>
    public const int SecondStage2MBit = 34;

    /// <summary>SSLPS bit for 1 GiB second-stage pages: 35.</summary>
    public const int SecondStage1GBit = 35;

    /// <summary>PSI (page-selective invalidation): bit 39.</summary>
    public const int PageSelectiveInvalidationBit = 39;

    /// <summary>NFR: bits 47:40, fault-recording registers − 1.</summary>
    public const int NumberOfFaultRecordsShift = 40;

    /// <summary>MAMV: bits 53:48, the largest PSI address mask.</summary>
    public const int MaxAddressMaskShift = 48;

    /// <summary>FS1GP (first-stage 1 GiB pages): bit 56.</summary>
    public const int FirstStage1GBit = 56;

    /// <summary>FS5LP (first-stage 5-level paging): bit 60.</summary>
    public const int FirstStage5LevelBit = 60;

    /// <summary>Reads a field of <paramref name="width"/> bits at <paramref name="shift"/>.</summary>
    public static int Field(ulong cap, int shift, int width) => (int)((cap >> shift) & ((1UL << width) - 1));

    /// <summary>Whether bit <paramref name="bit"/> is set.</summary>
    public static bool Bit(ulong register, int bit) => ((register >> bit) & 1) != 0;

    /// <summary>The SAGAW bit for second-stage tables of <paramref name="levels"/> levels (QEMU: <c>1 &lt;&lt; (levels - 2)</c>).</summary>
    public static int SagawBitFor(int levels) => 1 << (levels - 2);
}

/// <summary>Field positions of the ECAP register (VT-d spec §11.4.3; drivers.md §2.2).</summary>
public static class VtdEcapRegister
{
    /// <summary>C (coherent walks): bit 0.</summary>
    public const int CoherencyBit = 0;

    /// <summary>QI (queued invalidation): bit 1.</summary>
    public const int QueuedInvalidationBit = 1;

    /// <summary>DT (device TLB): bit 2.</summary>
    public const int DeviceTlbBit = 2;

    /// <summary>PT (pass-through): bit 6.</summary>
    public const int PassThroughBit = 6;

    /// <summary>SC (snoop control): bit 7.</summary>
    public const int SnoopControlBit = 7;

    /// <summary>IRO: bits 17:8, the IOTLB register offset / 16.</summary>
    public const int IotlbRegisterOffsetShift = 8;

    /// <summary>NEST (nested translation): bit 26.</summary>
    public const int NestedBit = 26;

    /// <summary>SRS (supervisor requests): bit 31.</summary>
    public const int SupervisorRequestBit = 31;

    /// <summary>PSS: bits 39:35, PASID width − 1.</summary>
    public const int PasidSizeShift = 35;

    /// <summary>PASID: bit 40.</summary>
    public const int PasidBit = 40;

    /// <summary>SMTS (scalable mode): bit 43.</summary>
    public const int ScalableModeBit = 43;

    /// <summary>SSADS (second-stage A/D): bit 45.</summary>
    public const int SecondStageAccessDirtyBit = 45;

    /// <summary>SSTS (second-stage translation in scalable mode): bit 46.</summary>
    public const int SecondStageBit = 46;

    /// <summary>FSTS (first-stage translation): bit 47.</summary>
    public const int FirstStageBit = 47;

    /// <summary>SMPWCS (scalable-mode page-walk coherency): bit 48.</summary>
    public const int ScalablePageWalkCoherencyBit = 48;
}
