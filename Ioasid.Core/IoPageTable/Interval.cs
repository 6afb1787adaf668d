namespace Ioasid.Core.IoPageTable;

/// <summary>
/// One entry of an <see cref="IntervalMap{TValue}"/>: the inclusive IOVA interval <c>[Start, Last]</c> and its payload.
/// </summary>
/// <remarks>
/// <c>Last</c> is inclusive, as in the kernel's <c>interval_tree_node</c>, so an interval can end at
/// <see cref="ulong.MaxValue"/> and a one-byte interval has <c>Start == Last</c>. Returned by value so lookups never
/// hand out references into the tree's arrays, which move on every split and merge.
/// </remarks>
internal readonly struct Interval<TValue>
{
    /// <summary>Creates an interval.</summary>
    public Interval(ulong start, ulong last, TValue value)
    {
        Start = start;
        Last = last;
        Value = value;
    }

    /// <summary>First address of the interval.</summary>
    public ulong Start { get; }

    /// <summary>Last address of the interval (inclusive).</summary>
    public ulong Last { get; }

    /// <summary>The payload stored with the interval.</summary>
    public TValue Value { get; }

    /// <summary>Number of addresses covered minus one; a full-range interval would overflow a length, this cannot.</summary>
    public ulong LengthMinusOne => Last - Start;

    /// <inheritdoc/>
    public override string ToString() => $"[0x{Start:x}, 0x{Last:x}] {Value}";
}
