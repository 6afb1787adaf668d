namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// How the VT-d model composes <see cref="IotlbEntry.Tag"/>: PASID in bits 19:0, domain id in bits 35:20, and bit 40
/// set for first-stage or nested translations. Entries are thus keyed (DID, PASID, stage, page, size), as the spec
/// tags them and as QEMU keys its IOTLB by level; invalidations select by masking these fields
/// (drivers.md §2.11): DSI by DID, PSI by DID and stage (plus every first-stage entry of the DID), PIOTLB by DID, PASID
/// and stage.
/// </summary>
public static class VtdIotlbTag
{
    /// <summary>The PASID field.</summary>
    public const ulong PasidMask = 0xFFFFFUL;

    /// <summary>Where the DID starts.</summary>
    public const int DomainShift = 20;

    /// <summary>The DID field.</summary>
    public const ulong DomainMask = 0xFFFFUL << DomainShift;

    /// <summary>Set for first-stage and nested entries.</summary>
    public const ulong FirstStageBit = 1UL << 40;

    /// <summary>The tag of a translation of <paramref name="domainId"/> on <paramref name="pasid"/>.</summary>
    public static ulong Compose(ushort domainId, uint pasid, bool firstStage) =>
        ((ulong)domainId << DomainShift) | (pasid & PasidMask) | (firstStage ? FirstStageBit : 0);

    /// <summary>The DID of a tag.</summary>
    public static ushort DomainId(ulong tag) => (ushort)(tag >> DomainShift);

    /// <summary>The PASID of a tag.</summary>
    public static uint Pasid(ulong tag) => (uint)(tag & PasidMask);

    /// <summary>Whether a tag belongs to a first-stage or nested translation.</summary>
    public static bool IsFirstStage(ulong tag) => (tag & FirstStageBit) != 0;
}
