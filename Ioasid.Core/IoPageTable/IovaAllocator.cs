namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Automatic IOVA allocation (the search half of the kernel's <c>iopt_alloc_iova</c>, spec §4.3): the lowest hole,
/// free of areas and reservations and inside the allowed ranges, where <see cref="AlignedHoleFit"/> places the request.
/// </summary>
/// <remarks>
/// <para>
/// The kernel walks the allowed spans (adjacent allowed ranges merged, clipped to
/// <c>[PAGE_SIZE, ULONG_MAX - PAGE_SIZE]</c>, or that whole window when none are set), places the request in the span
/// itself first (so the walk of holes starts at the span's aligned start), then walks the holes of
/// "reserved ∪ areas" from there and takes the first that fits. IOVA 0 can never come out: the window starts at a page.
/// </para>
/// <para>
/// The same order, without visiting areas one by one: inside a span, each hole of the (small, rarely changing)
/// reserved union is searched with the area map's augmented first-fit
/// (<see cref="IntervalMap{TValue}.TryFindFirstHole{TFit}"/>). A hole of "reserved ∪ areas" is exactly a reserved
/// hole intersected with an area hole, so the holes are the kernel's, in the kernel's order, and the clipping at the
/// span's aligned start is the same. Cost: O((A + R) log n) for A allowed spans and R reserved segments tried before
/// the answer — in practice a handful of each, so O(log n).
/// </para>
/// </remarks>
internal static class IovaAllocator
{
    /// <summary>Lowest IOVA automatic allocation may return.</summary>
    public const ulong WindowFirst = AutoIovaAlignment.PageSize;

    /// <summary>Highest IOVA automatic allocation may use.</summary>
    public const ulong WindowLast = ulong.MaxValue - AutoIovaAlignment.PageSize;

    /// <summary>
    /// Finds the IOVA for <paramref name="length"/> bytes with the given alignment and page offset, or reports that
    /// nothing fits (the caller's ENOSPC). Does not insert anything.
    /// </summary>
    /// <typeparam name="TArea">Area payload type.</typeparam>
    /// <param name="areas">The area map.</param>
    /// <param name="reserved">The reservations.</param>
    /// <param name="allowed">The allowed ranges; empty means the whole window.</param>
    /// <param name="length">Bytes to place (at least 1).</param>
    /// <param name="alignment">Alignment from <see cref="AutoIovaAlignment.TryCompute"/>.</param>
    /// <param name="pageOffset">Source address modulo the page size.</param>
    /// <param name="iova">The chosen IOVA.</param>
    /// <returns>True when a hole fits.</returns>
    public static bool TryAllocate<TArea>(
        IntervalMap<TArea> areas,
        ReservedRanges reserved,
        IntervalMap<NoValue> allowed,
        ulong length,
        ulong alignment,
        ulong pageOffset,
        out ulong iova)
    {
        var fit = new AlignedHoleFit(length, alignment, pageOffset);
        if (allowed.Count == 0)
        {
            return TrySpan(areas, reserved, WindowFirst, WindowLast, ref fit, out iova);
        }

        // Merge touching allowed ranges into spans as the kernel's span iterator does: a request may straddle
        // [a, b] and [b + 1, c]. Allowed ranges never overlap (ALLOW_IOVAS rejects that).
        bool open = false;
        ulong spanFirst = 0;
        ulong spanLast = 0;
        foreach (Interval<NoValue> range in allowed.EnumerateIntersecting(WindowFirst, WindowLast))
        {
            ulong s = range.Start < WindowFirst ? WindowFirst : range.Start;
            ulong l = range.Last > WindowLast ? WindowLast : range.Last;
            if (open && s == spanLast + 1)
            {
                spanLast = l;
                continue;
            }

            if (open && TrySpan(areas, reserved, spanFirst, spanLast, ref fit, out iova))
            {
                return true;
            }

            open = true;
            spanFirst = s;
            spanLast = l;
        }

        if (open && TrySpan(areas, reserved, spanFirst, spanLast, ref fit, out iova))
        {
            return true;
        }

        iova = 0;
        return false;
    }

    /// <summary>One allowed span: place in the span first (the kernel's <c>__alloc_iova_check_used</c>), then search its holes.</summary>
    private static bool TrySpan<TArea>(
        IntervalMap<TArea> areas,
        ReservedRanges reserved,
        ulong spanFirst,
        ulong spanLast,
        ref AlignedHoleFit fit,
        out ulong iova)
    {
        if (!fit.TryFit(spanFirst, spanLast, out ulong from))
        {
            iova = 0;
            return false;
        }

        foreach (IovaRange hole in reserved.EnumerateHoles(from, spanLast))
        {
            if (areas.TryFindFirstHole(hole.Start, hole.Last, ref fit, out iova))
            {
                return true;
            }
        }

        iova = 0;
        return false;
    }
}
