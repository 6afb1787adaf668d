namespace Ioasid.Drivers.Hardware;

/// <summary>
/// A fault a hardware model recorded: which requester (<see cref="Rid"/>, <see cref="Pasid"/>), where
/// (<see cref="Iova"/>), what it tried (<see cref="Access"/>), why (<see cref="Reason"/>) and the vendor's own code
/// for it (<see cref="VendorCode"/>). Vendor models derive records with their extra fields (VT-d FRCD, SMMUv3 event).
/// </summary>
/// <param name="Rid">The requester id of the faulting request.</param>
/// <param name="Pasid">Its PASID, or <see langword="null"/> when the request carried none.</param>
/// <param name="Iova">The faulting address (the page that faulted, for a multi-page DMA).</param>
/// <param name="Access">What the request tried to do.</param>
/// <param name="Reason">The vendor-neutral reason.</param>
/// <param name="VendorCode">The vendor's fault reason or event code.</param>
public record FaultRecord(Rid Rid, Pasid? Pasid, Iova Iova, DmaAccess Access, FaultReason Reason, uint VendorCode)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Reason} (0x{VendorCode:X}) {Access} {Rid}{(Pasid is { } p ? $" pasid {p}" : string.Empty)} at {Iova}";
}
