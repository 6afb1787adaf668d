namespace Ioasid;

/// <summary>
/// An I/O virtual address: what a device puts on the bus, before the IOMMU translates it. It does not
/// convert to a <see cref="PhysAddr"/>: only a translation turns one into the other.
/// </summary>
[TypedHandle<ulong>(Format = HandleFormat.Hex)]
[HandleConstant("Zero", 0, Summary = "IOVA 0.")]
public readonly partial struct Iova
{
    /// <summary>Whether the address is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public bool IsAligned(ulong alignment) => AddressMath.IsAligned(Value, alignment);

    /// <summary>Whether the address is 4 KiB aligned.</summary>
    public bool IsPageAligned => AddressMath.IsAligned(Value, AddressMath.PageSize);

    /// <summary>The offset of the address inside its 4 KiB page.</summary>
    public ulong PageOffset => Value & (AddressMath.PageSize - 1);

    /// <summary>The address rounded down to a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public Iova AlignDown(ulong alignment) => new(AddressMath.AlignDown(Value, alignment));

    /// <summary>The address rounded up to a multiple of <paramref name="alignment"/> (a power of two); throws on overflow.</summary>
    public Iova AlignUp(ulong alignment) => new(AddressMath.AlignUp(Value, alignment));

    /// <summary>The address <paramref name="bytes"/> further on; throws <see cref="System.OverflowException"/> past 2^64.</summary>
    public static Iova operator +(Iova address, ulong bytes) => new(checked(address.Value + bytes));

    /// <summary>The number of bytes from <paramref name="start"/> to <paramref name="end"/>; throws when <paramref name="end"/> is lower.</summary>
    public static ulong operator -(Iova end, Iova start) => checked(end.Value - start.Value);
}
