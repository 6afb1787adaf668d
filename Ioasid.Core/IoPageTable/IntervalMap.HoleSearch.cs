using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    /// <remarks>
    /// Each node is scanned with two vector masks, "child i has an inner hole of at least <c>need</c>" and "the hole
    /// between child i and child i + 1 holds at least <c>need</c>", and only the set bits are visited, lowest first
    /// (child i's inner holes before the hole that follows it): a node costs a few instructions however many
    /// children it has.
    /// </remarks>
    private bool SearchNode<TFit>(int node, int level, ulong first, ulong last, ulong need, ref TFit fit, out ulong at)
        where TFit : struct, IHoleFit
    {
        int b = node * Capacity;
        int c = _count[node];
        ref ulong lo = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_lo), b);
        ref ulong hi = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_hi), b);
        uint between = NodeScan.HoleMask(ref lo, ref hi, c, need);
        uint inner = level == 0 ? 0 : NodeScan.AtLeastMask(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_gap), b), c, need);
        uint candidates = between | inner;
        while (candidates != 0)
        {
            int i = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            ulong start = Unsafe.Add(ref lo, i);
            if (start >= last)
            {
                break; // every hole from here on starts after `last`
            }

            // Holes inside child i lie strictly between its first start and its last end.
            if ((inner & (1u << i)) != 0 && Unsafe.Add(ref hi, i) > first &&
                SearchNode(_child[b + i], level - 1, first, last, need, ref fit, out at))
            {
                return true;
            }

            if ((between & (1u << i)) != 0)
            {
                // `hi + 1` cannot overflow: slot i + 1 starts after it.
                ulong holeStart = Unsafe.Add(ref hi, i) + 1;
                if (holeStart > last)
                {
                    break;
                }

                ulong next = Unsafe.Add(ref lo, i + 1);
                if (next > first && TryHole(holeStart, next - 1, first, last, need, ref fit, out at))
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
