namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// How the SMMUv3 model composes IOTLB tags for the shared <see cref="Iotlb"/>: ASID in bits [15:0], VMID in
/// [31:16], and which stages produced the entry in bits 40 (stage 1) and 41 (stage 2): stage-1-only entries have
/// only bit 40, stage-2-only entries only bit 41 (ASID 0), nested (combined) entries both. The entry's page size
/// identifies its granule and level (each supported (granule, level) pair has its own size); both are kept in the
/// entry's vendor data as well.
/// </summary>
public static class SmmuTlbTag
{
    /// <summary>The entry came from a stage-1 walk.</summary>
    public const ulong Stage1 = 1UL << 40;

    /// <summary>The entry came from a stage-2 walk.</summary>
    public const ulong Stage2 = 1UL << 41;

    /// <summary>The ASID field.</summary>
    public const ulong AsidMask = 0xFFFF;

    /// <summary>The VMID field.</summary>
    public const ulong VmidMask = 0xFFFFUL << 16;

    /// <summary>A tag.</summary>
    public static ulong Compose(bool stage1, bool stage2, ushort vmid, ushort asid) =>
        (stage1 ? Stage1 : 0) | (stage2 ? Stage2 : 0) | ((ulong)vmid << 16) | asid;

    /// <summary>The VMID of a tag.</summary>
    public static ushort Vmid(ulong tag) => (ushort)(tag >> 16);

    /// <summary>The ASID of a tag.</summary>
    public static ushort Asid(ulong tag) => (ushort)tag;

    /// <summary>"S1", "S2" or "S1+S2".</summary>
    public static string Stages(ulong tag) => (tag & (Stage1 | Stage2)) switch
    {
        Stage1 => "S1",
        Stage2 => "S2",
        _ => "S1+S2",
    };
}
