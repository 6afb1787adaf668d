namespace Ioasid.Core.IoPageTable;

/// <summary>
/// First-fit search over the holes (maximal runs of addresses covered by no interval), guided by the per-subtree
/// largest-hole augmentation.
/// </summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Finds the lowest hole of the map, clipped to <c>[first, last]</c>, in which <paramref name="fit"/> places its
    /// request, and returns the address it chose.
    /// </summary>
    /// <remarks>
    /// Holes are visited in ascending order, exactly as a linear walk would, but a subtree is entered only when its
    /// largest inner hole is at least <see cref="IHoleFit.MinLength"/> and it overlaps the range. Besides the one
    /// path to the answer, the search enters only subtrees straddling <paramref name="first"/> or
    /// <paramref name="last"/> (whose big hole may be clipped away) and subtrees whose big holes the rule rejects for
    /// alignment: O(log n) when every hole of at least <c>MinLength</c> before the answer fits, O(k log n) when k
    /// such holes are rejected.
    /// </remarks>
    /// <typeparam name="TFit">The placement rule (a struct, so the JIT specialises the search for it).</typeparam>
    /// <param name="first">Lowest address the placement may use.</param>
    /// <param name="last">Highest address the placement may use (inclusive).</param>
    /// <param name="fit">The placement rule.</param>
    /// <param name="at">The address the rule chose.</param>
    /// <returns>True when some hole fits.</returns>
    public bool TryFindFirstHole<TFit>(ulong first, ulong last, ref TFit fit, out ulong at)
        where TFit : struct, IHoleFit
    {
        at = 0;
        if (first > last)
        {
            return false;
        }

        ulong need = fit.MinLength;
        if (_total == 0)
        {
            return TryHole(first, last, first, last, need, ref fit, out at);
        }

        int rb = _root * Capacity;
        ulong min = _lo[rb];
        ulong max = _hi[rb + _count[_root] - 1];

        // Hole before the lowest interval.
        if (min > first && TryHole(first, min - 1, first, last, need, ref fit, out at))
        {
            return true;
        }

        if (min > last)
        {
            return false;
        }

        if (SearchNode(_root, _height, first, last, need, ref fit, out at))
        {
            return true;
        }

        // Hole after the highest interval.
        return max < last && TryHole(max + 1, last, first, last, need, ref fit, out at);
    }

    /// <summary>Searches the holes strictly inside one subtree, in ascending order.</summary>
    private bool SearchNode<TFit>(int node, int level, ulong first, ulong last, ulong need, ref TFit fit, out ulong at)
        where TFit : struct, IHoleFit
    {
        int b = node * Capacity;
        int c = _count[node];
        if (level == 0)
        {
            for (int j = b; j < b + c - 1; j++)
            {
                // Hole between entries j and j+1; `hi + 1` cannot overflow because entry j+1 starts after it.
                ulong hs = _hi[j] + 1;
                if (hs > last)
                {
                    break;
                }

                ulong ns = _lo[j + 1];
                if (ns <= first || ns == hs)
                {
                    continue; // the hole ends before `first`, or the entries are adjacent
                }

                if (TryHole(hs, ns - 1, first, last, need, ref fit, out at))
                {
                    return true;
                }
            }

            at = 0;
            return false;
        }

        for (int i = 0; i < c; i++)
        {
            int s = b + i;
            if (_lo[s] >= last)
            {
                break; // holes inside this child and beyond start after `last`
            }

            // Holes inside child i lie in (lo, hi): worth entering only if one is big enough and it can reach `first`.
            if (_gap[s] >= need && _hi[s] > first &&
                SearchNode(_child[s], level - 1, first, last, need, ref fit, out at))
            {
                return true;
            }

            if (i + 1 < c)
            {
                // Hole between child i and child i+1.
                ulong hs = _hi[s] + 1;
                if (hs > last)
                {
                    break;
                }

                ulong ns = _lo[s + 1];
                if (ns > first && ns != hs && TryHole(hs, ns - 1, first, last, need, ref fit, out at))
                {
                    return true;
                }
            }
        }

        at = 0;
        return false;
    }

    /// <summary>Clips the hole <c>[start, end]</c> to <c>[first, last]</c> and asks the rule whether it fits.</summary>
    private static bool TryHole<TFit>(ulong start, ulong end, ulong first, ulong last, ulong need, ref TFit fit, out ulong at)
        where TFit : struct, IHoleFit
    {
        if (start < first)
        {
            start = first;
        }

        if (end > last)
        {
            end = last;
        }

        // Size check first (end - start + 1 >= need, written so it cannot overflow): cheaper than the rule.
        if (start > end || end - start < need - 1)
        {
            at = 0;
            return false;
        }

        return fit.TryFit(start, end, out at);
    }
}
