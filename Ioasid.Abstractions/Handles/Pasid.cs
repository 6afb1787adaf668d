namespace Ioasid;

/// <summary>
/// A PCIe Process Address Space ID: 20 bits that select one of a device's address spaces. Together with the
/// device's <see cref="Rid"/> it names what a DMA is translated with.
/// </summary>
[TypedHandle<uint>(Max = 0xFFFFF)]
[HandleConstant("NoPasid", 0, Summary = "IOMMU_NO_PASID: the RID's own address space, used by DMA that carries no PASID prefix.")]
public readonly partial struct Pasid
{
    /// <summary>The number of bits in a PASID (PCIe allows up to 20).</summary>
    public const int Bits = 20;

    /// <summary>Whether this is <see cref="NoPasid"/>, the RID's own address space.</summary>
    public bool IsNoPasid => Value == 0;
}
