namespace Ioasid;

/// <summary>
/// A host physical address in the simulated platform's memory. It does not convert to an <see cref="Iova"/>:
/// only a translation relates the two.
/// </summary>
[TypedHandle<ulong>(Format = HandleFormat.Hex)]
[HandleConstant("Zero", 0, Summary = "Physical address 0.")]
public readonly partial struct PhysAddr
{
    /// <summary>Whether the address is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public bool IsAligned(ulong alignment) => AddressMath.IsAligned(Value, alignment);

    /// <summary>Whether the address is 4 KiB aligned.</summary>
    public bool IsPageAligned => AddressMath.IsAligned(Value, AddressMath.PageSize);

    /// <summary>The offset of the address inside its 4 KiB page.</summary>
    public ulong PageOffset => Value & (AddressMath.PageSize - 1);

    /// <summary>The 4 KiB page frame number of the address.</summary>
    public ulong FrameNumber => Value >> AddressMath.PageShift;

    /// <summary>The address rounded down to a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public PhysAddr AlignDown(ulong alignment) => new(AddressMath.AlignDown(Value, alignment));

    /// <summary>The address rounded up to a multiple of <paramref name="alignment"/> (a power of two); throws on overflow.</summary>
    public PhysAddr AlignUp(ulong alignment) => new(AddressMath.AlignUp(Value, alignment));

    /// <summary>The address of 4 KiB frame <paramref name="frameNumber"/>.</summary>
    public static PhysAddr FromFrame(ulong frameNumber) => new(checked(frameNumber << AddressMath.PageShift));

    /// <summary>The address <paramref name="bytes"/> further on; throws <see cref="System.OverflowException"/> past 2^64.</summary>
    public static PhysAddr operator +(PhysAddr address, ulong bytes) => new(checked(address.Value + bytes));

    /// <summary>The number of bytes from <paramref name="start"/> to <paramref name="end"/>; throws when <paramref name="end"/> is lower.</summary>
    public static ulong operator -(PhysAddr end, PhysAddr start) => checked(end.Value - start.Value);
}
