using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Data-parallel scans over one node's slot run (at most <see cref="MaxRun"/> slots): key search, largest hole and
/// "which slots qualify" masks.
/// </summary>
/// <remarks>
/// <para>
/// A binary search over a node is a chain of dependent loads; in a large tree each can miss the cache, so a leaf
/// lookup pays several memory round trips in sequence. Comparing whole 64-byte lines at once (eight keys per AVX-512
/// compare) issues all of a node's loads together and needs no data-dependent branch, so a node costs about one
/// memory round trip. The same trick turns the augmentation upkeep (largest hole of a node) and the hole search's
/// "which children could hold a fit" into a handful of vector instructions instead of a 32-step loop.
/// </para>
/// <para>
/// Slot arrays must stay readable <see cref="Padding"/> slots past every run (the vector loads may read stale
/// slots past <c>count</c>; their lanes are masked off). Without AVX-512 the scalar versions run; tests check both.
/// </para>
/// </remarks>
internal static class KeySearch
{
    /// <summary>Longest run the masks cover (one bit per slot in a <see cref="uint"/>).</summary>
    public const int MaxRun = 32;

    /// <summary>Extra readable slots callers keep after the last run of an array.</summary>
    public const int Padding = 8;

    private static bool UseVectors => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Number of keys in <c>keys[0..count)</c> that are less than or equal to <paramref name="x"/> (the
    /// <c>upper_bound</c> index). Keys must be sorted ascending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CountLessOrEqual(ref ulong keys, int count, ulong x)
    {
        if (UseVectors)
        {
            // Sorted keys: the keys <= x form a prefix, so counting them anywhere in the run gives its length.
            Vector512<ulong> vx = Vector512.Create(x);
            uint mask = 0;
            for (int j = 0; j < count; j += 8)
            {
                mask |= (uint)Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref keys, (nuint)j), vx).ExtractMostSignificantBits() << j;
            }

            return BitOperations.PopCount(mask & LowBits(count));
        }

        return CountLessOrEqualScalar(ref keys, count, x);
    }

    /// <summary>Scalar <see cref="CountLessOrEqual"/>: a branch-free binary search.</summary>
    public static int CountLessOrEqualScalar(ref ulong keys, int count, ulong x)
    {
        if (count == 0)
        {
            return 0;
        }

        // Invariant: the answer lies in [b, b + n]. Each step halves n; the compare compiles to a conditional move.
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

    /// <summary>
    /// Largest hole between neighbours of a sorted, disjoint run: max over <c>j &lt; count - 1</c> of
    /// <c>lo[j + 1] - hi[j] - 1</c> (0 when fewer than two entries or all are adjacent).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MaxHole(ref ulong lo, ref ulong hi, int count)
    {
        if (UseVectors)
        {
            Vector512<ulong> best = Vector512<ulong>.Zero;
            int pairs = count - 1;
            for (int j = 0; j < pairs; j += 8)
            {
                Vector512<ulong> hole = Vector512.LoadUnsafe(ref lo, (nuint)(j + 1)) - Vector512.LoadUnsafe(ref hi, (nuint)j) - Vector512<ulong>.One;
                best = Vector512.Max(best, Vector512.ConditionalSelect(LaneMask(pairs - j), hole, Vector512<ulong>.Zero));
            }

            return HorizontalMax(best);
        }

        return MaxHoleScalar(ref lo, ref hi, count);
    }

    /// <summary>Scalar <see cref="MaxHole"/>.</summary>
    public static ulong MaxHoleScalar(ref ulong lo, ref ulong hi, int count)
    {
        ulong g = 0;
        for (int j = 0; j < count - 1; j++)
        {
            ulong h = Unsafe.Add(ref lo, j + 1) - Unsafe.Add(ref hi, j) - 1;
            g = h > g ? h : g;
        }

        return g;
    }

    /// <summary>Largest of <c>values[0..count)</c> (0 for an empty run).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Max(ref ulong values, int count)
    {
        if (UseVectors)
        {
            Vector512<ulong> best = Vector512<ulong>.Zero;
            for (int j = 0; j < count; j += 8)
            {
                best = Vector512.Max(best, Vector512.ConditionalSelect(LaneMask(count - j), Vector512.LoadUnsafe(ref values, (nuint)j), Vector512<ulong>.Zero));
            }

            return HorizontalMax(best);
        }

        return MaxScalar(ref values, count);
    }

    /// <summary>Scalar <see cref="Max"/>.</summary>
    public static ulong MaxScalar(ref ulong values, int count)
    {
        ulong g = 0;
        for (int j = 0; j < count; j++)
        {
            ulong v = Unsafe.Add(ref values, j);
            g = v > g ? v : g;
        }

        return g;
    }

    /// <summary>Bit <c>j</c> set when <c>values[j] &gt;= need</c>, for <c>j &lt; count</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtLeastMask(ref ulong values, int count, ulong need)
    {
        if (UseVectors)
        {
            Vector512<ulong> vn = Vector512.Create(need);
            uint mask = 0;
            for (int j = 0; j < count; j += 8)
            {
                mask |= (uint)Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref values, (nuint)j), vn).ExtractMostSignificantBits() << j;
            }

            return mask & LowBits(count);
        }

        return AtLeastMaskScalar(ref values, count, need);
    }

    /// <summary>Scalar <see cref="AtLeastMask"/>.</summary>
    public static uint AtLeastMaskScalar(ref ulong values, int count, ulong need)
    {
        uint mask = 0;
        for (int j = 0; j < count; j++)
        {
            mask |= Unsafe.Add(ref values, j) >= need ? 1u << j : 0;
        }

        return mask;
    }

    /// <summary>
    /// Bit <c>j</c> set when the hole between neighbours <c>j</c> and <c>j + 1</c> holds at least
    /// <paramref name="need"/> addresses (<c>lo[j + 1] - hi[j] - 1 &gt;= need</c>), for <c>j &lt; count - 1</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HoleMask(ref ulong lo, ref ulong hi, int count, ulong need)
    {
        if (UseVectors)
        {
            Vector512<ulong> vn = Vector512.Create(need);
            uint mask = 0;
            int pairs = count - 1;
            for (int j = 0; j < pairs; j += 8)
            {
                Vector512<ulong> hole = Vector512.LoadUnsafe(ref lo, (nuint)(j + 1)) - Vector512.LoadUnsafe(ref hi, (nuint)j) - Vector512<ulong>.One;
                mask |= (uint)Vector512.GreaterThanOrEqual(hole, vn).ExtractMostSignificantBits() << j;
            }

            return pairs <= 0 ? 0 : mask & LowBits(pairs);
        }

        return HoleMaskScalar(ref lo, ref hi, count, need);
    }

    /// <summary>Scalar <see cref="HoleMask"/>.</summary>
    public static uint HoleMaskScalar(ref ulong lo, ref ulong hi, int count, ulong need)
    {
        uint mask = 0;
        for (int j = 0; j < count - 1; j++)
        {
            mask |= Unsafe.Add(ref lo, j + 1) - Unsafe.Add(ref hi, j) - 1 >= need ? 1u << j : 0;
        }

        return mask;
    }

    /// <summary>The low <paramref name="n"/> bits set (n in 0..32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LowBits(int n) => (uint)((1UL << n) - 1);

    /// <summary>All-ones in the first <paramref name="valid"/> lanes (clamped to 0..8), zero after.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> LaneMask(int valid) =>
        Vector512.LessThan(Vector512<ulong>.Indices, Vector512.Create((ulong)valid));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HorizontalMax(Vector512<ulong> v)
    {
        Vector256<ulong> m4 = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<ulong> m2 = Vector128.Max(m4.GetLower(), m4.GetUpper());
        ulong a = m2.GetElement(0);
        ulong b = m2.GetElement(1);
        return a > b ? a : b;
    }
}
