namespace Ioasid.Core.Iommufd;

/// <summary>
/// An inclusive IOVA range <c>[Start, Last]</c>, as <c>struct iommu_iova_range</c> has it. Inclusive so that a
/// range can end at the top of the 64-bit space.
/// </summary>
/// <param name="Start">The first IOVA of the range.</param>
/// <param name="Last">The last IOVA of the range (inclusive).</param>
public readonly record struct IovaRange(Iova Start, Iova Last)
{
    /// <summary>The whole 64-bit IOVA space.</summary>
    public static IovaRange All => new(Iova.Zero, new Iova(ulong.MaxValue));

    /// <summary>The range of <paramref name="length"/> bytes from <paramref name="start"/>; <paramref name="length"/> must be at least 1.</summary>
    public static IovaRange FromLength(Iova start, ulong length) => new(start, new Iova(start.Value + (length - 1)));

    /// <summary>The number of bytes in the range; 0 stands for 2^64 (the whole space).</summary>
    public ulong Length => Last.Value - Start.Value + 1;

    /// <summary>Whether <paramref name="iova"/> lies inside the range.</summary>
    public bool Contains(Iova iova) => iova >= Start && iova <= Last;

    /// <summary>Whether the ranges share at least one address.</summary>
    public bool Intersects(IovaRange other) => Start <= other.Last && other.Start <= Last;

    /// <inheritdoc />
    public override string ToString() => $"[{Start}, {Last}]";
}
