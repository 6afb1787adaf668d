namespace Ioasid.Drivers.Hardware;

/// <summary>
/// What a hardware model's <c>Translate</c> answers for one request: on success the physical address of the
/// request's first byte and how many bytes from there are contiguous in the same leaf page (the DMA engine moves at
/// most that much before translating again); on failure the fault.
/// </summary>
public readonly record struct TranslationResult
{
    /// <summary>The fault, or <see cref="FaultReason.None"/> on success.</summary>
    public FaultReason Fault { get; init; }

    /// <summary>The vendor's fault code; 0 on success.</summary>
    public uint VendorCode { get; init; }

    /// <summary>The physical address of the request's first byte.</summary>
    public PhysAddr Address { get; init; }

    /// <summary>Bytes from <see cref="Address"/> to the end of the leaf page (identity: to the end of the 4 KiB page).</summary>
    public ulong Length { get; init; }

    /// <summary>Whether the translation came from the IOTLB rather than a walk.</summary>
    public bool IotlbHit { get; init; }

    /// <summary>
    /// Whether the translation came from the requester's own device TLB (an ATS translated request the IOMMU let
    /// through) rather than from the IOMMU.
    /// </summary>
    public bool DeviceTlbHit { get; init; }

    /// <summary>Whether the request was translated.</summary>
    public bool IsSuccess => Fault == FaultReason.None;

    // Every field in one constructor: the result is built in place, where an object initializer builds a temporary
    // field by field and copies it whole (a store-forwarding stall on every translation).
    private TranslationResult(FaultReason fault, uint vendorCode, PhysAddr address, ulong length, bool iotlbHit)
    {
        Fault = fault;
        VendorCode = vendorCode;
        Address = address;
        Length = length;
        IotlbHit = iotlbHit;
        DeviceTlbHit = false;
    }

    /// <summary>A successful translation.</summary>
    public static TranslationResult Translated(PhysAddr address, ulong length, bool iotlbHit) =>
        new(FaultReason.None, 0, address, length, iotlbHit);

    /// <summary>A fault.</summary>
    public static TranslationResult Faulted(FaultReason reason, uint vendorCode) =>
        new(reason, vendorCode, PhysAddr.Zero, 0, false);
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
