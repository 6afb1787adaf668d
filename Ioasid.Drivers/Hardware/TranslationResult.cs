namespace Ioasid.Drivers.Hardware;

/// <summary>
/// What a hardware model's <c>Translate</c> answers for one request: on success the physical address of the
/// request's first byte and how many bytes from there are contiguous in the same leaf page (the DMA engine moves at
/// most that much before translating again); on failure the fault.
/// </summary>
public readonly record struct TranslationResult
{
    // Three words, not six fields: a struct of at most four fields is kept in registers when a translate path is
    // inlined, where six made the JIT build every result in a stack temporary and copy it whole (a store-forwarding
    // stall per translation). _status holds the fault in bits 15:0, IotlbHit in bit 16, DeviceTlbHit in bit 17 and
    // the vendor code in bits 63:32.
    private const int IotlbHitBit = 16;
    private const int DeviceTlbHitBit = 17;
    private const int VendorCodeShift = 32;

    private readonly ulong _address;
    private readonly ulong _length;
    private readonly ulong _status;

    /// <summary>The fault, or <see cref="FaultReason.None"/> on success.</summary>
    public FaultReason Fault
    {
        get => (FaultReason)(ushort)_status;
        init => _status = (_status & ~0xFFFFUL) | (ushort)value;
    }

    /// <summary>The vendor's fault code; 0 on success.</summary>
    public uint VendorCode
    {
        get => (uint)(_status >> VendorCodeShift);
        init => _status = (_status & 0xFFFF_FFFFUL) | ((ulong)value << VendorCodeShift);
    }

    /// <summary>The physical address of the request's first byte.</summary>
    public PhysAddr Address
    {
        get => new(_address);
        init => _address = value.Value;
    }

    /// <summary>Bytes from <see cref="Address"/> to the end of the leaf page (identity: to the end of the 4 KiB page).</summary>
    public ulong Length
    {
        get => _length;
        init => _length = value;
    }

    /// <summary>Whether the translation came from the IOTLB rather than a walk.</summary>
    public bool IotlbHit
    {
        get => (_status & (1UL << IotlbHitBit)) != 0;
        init => _status = value ? _status | (1UL << IotlbHitBit) : _status & ~(1UL << IotlbHitBit);
    }

    /// <summary>
    /// Whether the translation came from the requester's own device TLB (an ATS translated request the IOMMU let
    /// through) rather than from the IOMMU.
    /// </summary>
    public bool DeviceTlbHit
    {
        get => (_status & (1UL << DeviceTlbHitBit)) != 0;
        init => _status = value ? _status | (1UL << DeviceTlbHitBit) : _status & ~(1UL << DeviceTlbHitBit);
    }

    /// <summary>Whether the request was translated.</summary>
    public bool IsSuccess => Fault == FaultReason.None;

    private TranslationResult(ulong address, ulong length, ulong status)
    {
        _address = address;
        _length = length;
        _status = status;
    }

    /// <summary>A successful translation.</summary>
    public static TranslationResult Translated(PhysAddr address, ulong length, bool iotlbHit) =>
        new(address.Value, length, iotlbHit ? 1UL << IotlbHitBit : 0);

    /// <summary>A fault.</summary>
    public static TranslationResult Faulted(FaultReason reason, uint vendorCode) =>
        new(0, 0, (ushort)reason | ((ulong)vendorCode << VendorCodeShift));
}

/// <summary>
/// The outcome of a DMA through a hardware model: how many bytes moved and, when it stopped early, the fault and the
/// IOVA of the page that faulted. Each page is its own transaction: pages before a fault have been transferred.
/// </summary>
public readonly record struct DmaResult
{
    /// <summary>The fault that stopped the DMA, or <see cref="FaultReason.None"/> when it completed.</summary>
    public FaultReason Fault { get; init; }

    /// <summary>The vendor's fault code; 0 on success.</summary>
    public uint VendorCode { get; init; }

    /// <summary>Bytes transferred before the DMA completed or faulted.</summary>
    public ulong BytesTransferred { get; init; }

    /// <summary>The faulting IOVA; <see cref="Iova.Zero"/> on success.</summary>
    public Iova FaultIova { get; init; }

    /// <summary>Whether the whole DMA completed.</summary>
    public bool IsSuccess => Fault == FaultReason.None;

    /// <summary>A completed DMA of <paramref name="bytes"/> bytes.</summary>
    public static DmaResult Completed(ulong bytes) => new() { BytesTransferred = bytes };

    /// <summary>A DMA that faulted at <paramref name="iova"/> after <paramref name="bytes"/> bytes.</summary>
    public static DmaResult Faulted(ulong bytes, Iova iova, FaultReason reason, uint vendorCode) =>
        new() { BytesTransferred = bytes, FaultIova = iova, Fault = reason, VendorCode = vendorCode };
}
