using Ioasid;

namespace TinyIommu.Format;

/// <summary>
/// One 16-byte entry of the tiny-iommu device table, indexed by the requester's 16-bit bus/device/function, as
/// AMD-Vi's device table is. The driver writes it in physical memory; the hardware reads it (and caches it until
/// told to invalidate it).
/// <code>
///  word 0: bit 0 V (valid), bit 1 TV (translation valid), bits 11:9 MODE (table levels), bits 51:12 root table
///  word 1: bits 15:0 DOMAIN_ID (the IOTLB tag)
/// </code>
/// V = 0: no entry, DMA faults. V = 1, TV = 0: DMA blocked. V = 1, TV = 1: translate through the tables at the root.
/// </summary>
public readonly record struct DeviceTableEntry(ulong Word0, ulong Word1)
{
    /// <summary>Bytes per entry.</summary>
    public const int Size = 16;

    /// <summary>Entries in the table: one per 16-bit requester id.</summary>
    public const int Count = 1 << 16;

    /// <summary>V.</summary>
    public const ulong Valid = 1UL << 0;

    /// <summary>TV.</summary>
    public const ulong TranslationValid = 1UL << 1;

    /// <summary>Position of MODE.</summary>
    public const int ModeShift = 9;

    /// <summary>MODE.</summary>
    public const ulong ModeMask = 7UL << ModeShift;

    /// <summary>The root table address.</summary>
    public const ulong RootMask = TinyPte.AddressMask;

    /// <summary>DOMAIN_ID in word 1.</summary>
    public const ulong DomainIdMask = 0xFFFF;

    /// <summary>V = 1.</summary>
    public bool IsValid => (Word0 & Valid) != 0;

    /// <summary>TV = 1.</summary>
    public bool Translates => (Word0 & TranslationValid) != 0;

    /// <summary>MODE: how many table levels the walk starts with.</summary>
    public int Mode => (int)((Word0 & ModeMask) >> ModeShift);

    /// <summary>The root table.</summary>
    public PhysAddr Root => new(Word0 & RootMask);

    /// <summary>DOMAIN_ID.</summary>
    public ushort DomainId => (ushort)(Word1 & DomainIdMask);

    /// <summary>No entry (V = 0).</summary>
    public static DeviceTableEntry Invalid => default;

    /// <summary>V = 1, TV = 0: every DMA from the device is blocked.</summary>
    public static DeviceTableEntry Blocked => new(Valid, 0);

    /// <summary>Translate through the <see cref="TinyPte.Levels"/>-level tables at <paramref name="root"/>, tagged <paramref name="domainId"/>.</summary>
    public static DeviceTableEntry Translate(PhysAddr root, ushort domainId) =>
        new(Valid | TranslationValid | ((ulong)TinyPte.Levels << ModeShift) | (root.Value & RootMask), domainId);

    /// <summary>The address of <paramref name="rid"/>'s entry in the table at <paramref name="tableBase"/>.</summary>
    public static PhysAddr AddressOf(PhysAddr tableBase, Rid rid) => tableBase + ((ulong)rid.Bdf * Size);
}
