namespace Ioasid.Drivers.Hardware.Mock;

/// <summary>What a mock context entry does with the DMA it matches.</summary>
public enum MockContextMode : byte
{
    /// <summary>Every DMA faults with <see cref="FaultReason.Blocked"/> (a blocked domain).</summary>
    Blocked,

    /// <summary>Output = input, no tables, no IOTLB (an identity domain).</summary>
    Identity,

    /// <summary>Walk the <see cref="Drivers.Mock.MockPteFormat"/> tables at the entry's root, caching under its tag.</summary>
    Translate,
}

/// <summary>
/// One entry of the mock IOMMU's context table, for a RID or a (RID, PASID): blocked, identity, or translate through
/// the tables at <see cref="Root"/> with IOTLB entries tagged <see cref="Tag"/> (the domain id: devices and PASIDs
/// attached to one domain share a tag and so share cached translations).
/// </summary>
/// <param name="Mode">Blocked, identity or translate.</param>
/// <param name="Root">The root table page (translate only).</param>
/// <param name="Tag">The IOTLB tag (translate only).</param>
/// <param name="DirtyTracking">
/// Whether DMA writes set the <c>D</c> bit of the leaf they go through (translate only; like VT-d's SSADE or SMMUv3's
/// HTTU, a per-entry enable the driver programs for every device of a dirty-tracking domain).
/// </param>
public readonly record struct MockContextEntry(MockContextMode Mode, PhysAddr Root, ulong Tag, bool DirtyTracking = false)
{
    /// <summary>A blocking entry.</summary>
    public static MockContextEntry Blocked => new(MockContextMode.Blocked, PhysAddr.Zero, 0);

    /// <summary>An identity (pass-through) entry.</summary>
    public static MockContextEntry Identity => new(MockContextMode.Identity, PhysAddr.Zero, 0);

    /// <summary>A translating entry: tables at <paramref name="root"/>, IOTLB tag <paramref name="tag"/>.</summary>
    public static MockContextEntry Translate(PhysAddr root, ulong tag, bool dirtyTracking = false) => new(MockContextMode.Translate, root, tag, dirtyTracking);

    /// <inheritdoc />
    public override string ToString() => Mode == MockContextMode.Translate ? $"translate root {Root} tag 0x{Tag:X}{(DirtyTracking ? " dirty-tracking" : string.Empty)}" : Mode.ToString().ToLowerInvariant();
}

/// <summary>The mock hardware's own fault codes (<see cref="FaultRecord.VendorCode"/>).</summary>
public enum MockFaultCode : uint
{
    /// <summary>No fault.</summary>
    None = 0,

    /// <summary>No context entry for the RID (a request without PASID).</summary>
    NoRidEntry = 0x01,

    /// <summary>No context entry for the (RID, PASID) of a request with PASID.</summary>
    NoPasidEntry = 0x02,

    /// <summary>The entry is blocked.</summary>
    Blocked = 0x03,

    /// <summary>The IOVA is at or above 2^48.</summary>
    AddressSize = 0x04,

    /// <summary>A not-present entry in the root (level-4) table.</summary>
    NotPresentLevel4 = 0x14,

    /// <summary>A not-present entry in a level-3 table.</summary>
    NotPresentLevel3 = 0x13,

    /// <summary>A not-present entry in a level-2 table.</summary>
    NotPresentLevel2 = 0x12,

    /// <summary>A not-present leaf in a level-1 table.</summary>
    NotPresentLevel1 = 0x11,

    /// <summary>The translation does not allow the access.</summary>
    Permission = 0x20,

    /// <summary>A present entry with reserved bits set, <c>PS</c> where not allowed, or a misaligned 2 MiB address.</summary>
    InvalidEntry = 0x30,

    /// <summary>A table page or the output lies outside physical memory.</summary>
    ExternalAbort = 0x40,
}
