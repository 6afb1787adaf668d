namespace Ioasid.Drivers.Hardware;

/// <summary>
/// One DMA as it arrives at an IOMMU: who sent it (<see cref="Rid"/>, and <see cref="Pasid"/> when the TLP carries a
/// PASID prefix), where (<see cref="Iova"/>, <see cref="Length"/> bytes) and what it does (<see cref="Access"/>).
/// </summary>
/// <param name="Rid">The requester id of the device.</param>
/// <param name="Pasid">The PASID of the request, or <see langword="null"/> for a request without a PASID prefix (RID traffic).</param>
/// <param name="Iova">The first byte addressed.</param>
/// <param name="Length">The number of bytes.</param>
/// <param name="Access">Read, write, or both.</param>
public readonly record struct DmaRequest(Rid Rid, Pasid? Pasid, Iova Iova, ulong Length, DmaAccess Access)
{
    /// <summary>A DMA read of <paramref name="length"/> bytes at <paramref name="iova"/> without a PASID.</summary>
    public static DmaRequest ForRead(Rid rid, Iova iova, ulong length) => new(rid, null, iova, length, DmaAccess.Read);

    /// <summary>A DMA write of <paramref name="length"/> bytes at <paramref name="iova"/> without a PASID.</summary>
    public static DmaRequest ForWrite(Rid rid, Iova iova, ulong length) => new(rid, null, iova, length, DmaAccess.Write);

    /// <summary>The same request with a PASID prefix.</summary>
    public DmaRequest WithPasid(Pasid pasid) => this with { Pasid = pasid };

    /// <inheritdoc />
    public override string ToString() =>
        $"{Access} {Rid}{(Pasid is { } p ? $" pasid {p}" : string.Empty)} {Iova}+0x{Length:X}";
}
