using System.Runtime.CompilerServices;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Search inside one node's sorted key run. Nodes hold at most a few dozen keys, so a branch-free binary search over
/// the contiguous run beats both a linear scan and a branchy binary search: the loop has a fixed trip count for a
/// given node size and its compare compiles to a conditional move, so lookups at random addresses do not pay for
/// mispredicted branches.
/// </summary>
internal static class KeySearch
{
    /// <summary>
    /// Number of keys in <c>keys[0..count)</c> that are less than or equal to <paramref name="x"/>
    /// (the C++ <c>upper_bound</c> index). The keys must be sorted ascending.
    /// </summary>
    /// <param name="keys">Reference to the first key of the run.</param>
    /// <param name="count">Number of keys in the run.</param>
    /// <param name="x">The probe.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CountLessOrEqual(ref ulong keys, int count, ulong x)
    {
        if (count == 0)
        {
            return 0;
        }

        // Invariant: the answer lies in [b, b + n]. Each step halves n without a data-dependent branch.
        int b = 0;
        int n = count;
        while (n > 1)
        {
            int half = n >> 1;
            b = Unsafe.Add(ref keys, b + half) <= x ? b + half : b;
            n -= half;
        }

        return b + (Unsafe.Add(ref keys, b) <= x ? 1 : 0);
    }
}
