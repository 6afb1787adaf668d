namespace Ioasid.Core.IoPageTable;

/// <summary>
/// A placement rule for <see cref="IntervalMap{TValue}.TryFindFirstHole{TFit}"/>: decides whether, and where, a
/// request fits inside one free hole.
/// </summary>
/// <remarks>
/// Implemented by structs and passed as a generic argument so the JIT specialises the hole search for the rule:
/// no delegate call, no closure allocation, in the allocator's hot path.
/// </remarks>
internal interface IHoleFit
{
    /// <summary>
    /// Smallest hole size (in addresses, at least 1) that could possibly fit. Subtrees whose largest hole is smaller
    /// are skipped without being visited, which is what makes the search logarithmic.
    /// </summary>
    ulong MinLength { get; }

    /// <summary>
    /// Tries to place the request inside the hole <c>[holeStart, holeLast]</c> (already clipped to the search range).
    /// </summary>
    /// <param name="holeStart">First free address of the hole.</param>
    /// <param name="holeLast">Last free address of the hole (inclusive).</param>
    /// <param name="at">The chosen start address when the request fits.</param>
    /// <returns>True when the request fits in this hole.</returns>
    bool TryFit(ulong holeStart, ulong holeLast, out ulong at);
}
