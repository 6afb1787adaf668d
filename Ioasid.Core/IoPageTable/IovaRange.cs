namespace Ioasid.Core.IoPageTable;

/// <summary>
/// An inclusive IOVA range <c>[Start, Last]</c> without payload, the shape of the uAPI's <c>iommu_iova_range</c>:
/// used for holes (IOAS_IOVA_RANGES), allowed ranges (IOAS_ALLOW_IOVAS) and merged reserved segments.
/// </summary>
internal readonly record struct IovaRange(ulong Start, ulong Last)
{
    /// <summary>True when <paramref name="address"/> lies inside the range.</summary>
    public bool Contains(ulong address) => address >= Start && address <= Last;

    /// <summary>True when the range shares at least one address with <c>[first, last]</c>.</summary>
    public bool Intersects(ulong first, ulong last) => Start <= last && first <= Last;

    /// <inheritdoc/>
    public override string ToString() => $"[0x{Start:x}, 0x{Last:x}]";
}
