namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>What a requester's transactions resolve to once STE and CD are decoded: the hot path's per-requester state.</summary>
internal enum ResolvedMode
{
    Abort,
    Bypass,
    Translate,

    // A requester with ATS enabled: its device TLB first; InnerMode says what the IOMMU does with its requests.
    AtsEndpoint,
}

/// <summary>
/// The configuration one (RID, PASID) pair resolved to: the mode, the StreamID, the IOTLB tag, which stages walk and
/// how, and whether faults are recorded. Kept in the hardware's one-entry fast-path slot until the configuration
/// cache changes.
/// </summary>
internal struct ResolvedStream
{
    public ResolvedMode Mode;
    public ResolvedMode InnerMode; // Translate or Bypass, when Mode is AtsEndpoint
    public uint StreamId;
    public ulong Tag;
    public bool Stage1;
    public bool Stage2;
    public bool Epd0;
    public bool RecordStage1;
    public bool RecordStage2;
    public bool AtsAllowed; // STE.EATS != 0 on an SMMU with IDR0.ATS
    public WalkContext Stage1Walk;
    public WalkContext Stage2Walk;
}
