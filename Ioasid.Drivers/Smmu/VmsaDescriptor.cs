namespace Ioasid.Drivers.Smmu;

/// <summary>
/// VMSAv8-64 translation-table descriptor bits (Arm ARM D8; drivers.md §3.6): what the driver's
/// <see cref="ArmLpaePageTable"/> writes and the hardware walker reads. Bits [1:0]: 0b01 block (levels with blocks),
/// 0b11 table (levels 0–2) or page (level 3), anything with bit 0 clear is invalid.
/// </summary>
public static class VmsaDescriptor
{
    /// <summary>Bit 0: the descriptor is valid.</summary>
    public const ulong Valid = 1UL << 0;

    /// <summary>Bit 1: with <see cref="Valid"/>, a table (levels 0–2) or a page (level 3); clear, a block.</summary>
    public const ulong TableOrPage = 1UL << 1;

    /// <summary>Bits [1:0] of a table or page descriptor.</summary>
    public const ulong TypeTable = Valid | TableOrPage;

    /// <summary>Bits [1:0] of a block descriptor.</summary>
    public const ulong TypeBlock = Valid;

    /// <summary>Mask of the type bits [1:0].</summary>
    public const ulong TypeMask = 3;

    /// <summary>Stage 1: AttrIndx, bits [4:2], an index into CD.MAIR.</summary>
    public const int AttrIndxShift = 2;

    /// <summary>Stage 1 AttrIndx of normal non-cacheable memory (Linux's MAIR slot 0).</summary>
    public const ulong AttrIndxNonCacheable = 0;

    /// <summary>Stage 1 AttrIndx of normal write-back cacheable memory (slot 1, IOMMU_CACHE).</summary>
    public const ulong AttrIndxCacheable = 1;

    /// <summary>Stage 1 AttrIndx of device memory (slot 2, IOMMU_MMIO).</summary>
    public const ulong AttrIndxDevice = 2;

    /// <summary>Stage 1: NS, bit 5.</summary>
    public const ulong NonSecure = 1UL << 5;

    /// <summary>Stage 1: AP[1], bit 6 — unprivileged (EL0) access allowed.</summary>
    public const ulong ApUnprivileged = 1UL << 6;

    /// <summary>Stage 1: AP[2], bit 7 — read-only.</summary>
    public const ulong ApReadOnly = 1UL << 7;

    /// <summary>Stage 2: S2AP[0], bit 6 — reads allowed.</summary>
    public const ulong S2ApRead = 1UL << 6;

    /// <summary>Stage 2: S2AP[1], bit 7 — writes allowed.</summary>
    public const ulong S2ApWrite = 1UL << 7;

    /// <summary>Stage 2: MemAttr, bits [5:2].</summary>
    public const int S2MemAttrShift = 2;

    /// <summary>Stage 2 MemAttr of device memory (0x1).</summary>
    public const ulong S2MemAttrDevice = 0x1;

    /// <summary>Stage 2 MemAttr of normal non-cacheable memory (0x5).</summary>
    public const ulong S2MemAttrNonCacheable = 0x5;

    /// <summary>Stage 2 MemAttr of normal inner and outer write-back memory (0xF).</summary>
    public const ulong S2MemAttrCacheable = 0xF;

    /// <summary>SH, bits [9:8]: shareability.</summary>
    public const int ShareabilityShift = 8;

    /// <summary>SH value for inner shareable (3).</summary>
    public const ulong ShareabilityInner = 3;

    /// <summary>AF, bit 10: access flag. A leaf with AF = 0 faults (F_ACCESS) unless AFFD = 1.</summary>
    public const ulong AccessFlag = 1UL << 10;

    /// <summary>Stage 1: nG, bit 11 — not global, the entry is ASID-tagged.</summary>
    public const ulong NotGlobal = 1UL << 11;

    /// <summary>DBM, bit 51: dirty-bit modifier.</summary>
    public const ulong DirtyBitModifier = 1UL << 51;

    /// <summary>Contiguous hint, bit 52.</summary>
    public const ulong Contiguous = 1UL << 52;

    /// <summary>Stage 1: PXN, bit 53.</summary>
    public const ulong PrivilegedExecuteNever = 1UL << 53;

    /// <summary>Stage 1 UXN/XN, bit 54 (stage 2: XN[1], with bit 53 XN[0] under FEAT_XNX).</summary>
    public const ulong ExecuteNever = 1UL << 54;

    /// <summary>Table descriptors: PXNTable, bit 59.</summary>
    public const ulong PxnTable = 1UL << 59;

    /// <summary>Table descriptors: XNTable, bit 60.</summary>
    public const ulong XnTable = 1UL << 60;

    /// <summary>Table descriptors (stage 1): APTable[0], bit 61 — no unprivileged access below.</summary>
    public const ulong ApTableNoUnprivileged = 1UL << 61;

    /// <summary>Table descriptors (stage 1): APTable[1], bit 62 — no write access below.</summary>
    public const ulong ApTableNoWrite = 1UL << 62;

    /// <summary>Table descriptors: NSTable, bit 63.</summary>
    public const ulong NsTable = 1UL << 63;

    /// <summary>Output address bits [47:12] (further restricted to the granule: [47:14] for 16 KiB, [47:16] for 64 KiB).</summary>
    public const ulong AddressMask = 0x0000_FFFF_FFFF_F000UL;

    /// <summary>The output or next-table address of a descriptor with granule <paramref name="granule"/>.</summary>
    public static ulong Address(ulong descriptor, TranslationGranule granule) => descriptor & AddressMask & ~(granule.PageSize() - 1);

    /// <summary>Whether the descriptor is valid.</summary>
    public static bool IsValid(ulong descriptor) => (descriptor & Valid) != 0;

    /// <summary>Whether a valid descriptor at <paramref name="level"/> points at a next-level table (0b11 above level 3).</summary>
    public static bool IsTable(ulong descriptor, int level) => level < 3 && (descriptor & TypeMask) == TypeTable;

    /// <summary>A table descriptor pointing at <paramref name="table"/> (type 0b11 only, as io-pgtable-arm writes).</summary>
    public static ulong EncodeTable(PhysAddr table) => (table.Value & AddressMask) | TypeTable;
}
