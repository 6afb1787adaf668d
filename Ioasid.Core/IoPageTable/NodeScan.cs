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
/// The vector paths always read a full run of <see cref="MaxRun"/> slots (plus one for hole sizes), so slot arrays
/// must stay readable <see cref="Padding"/> slots past the last run; lanes past <c>count</c> are masked off.
/// Without AVX-512 the scalar versions run; tests check that both agree.
/// </para>
/// </remarks>
internal static class NodeScan
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
            // Sorted keys: the keys <= x form a prefix, so counting them anywhere in the run gives its length. All
            // four lines are compared whatever the count (lanes past it are masked off): no loop exit to mispredict,
            // and the four loads go out together.
            Vector512<ulong> vx = Vector512.Create(x);
            uint mask = (uint)Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref keys), vx).ExtractMostSignificantBits()
                | ((uint)Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref keys, 8), vx).ExtractMostSignificantBits() << 8)
                | ((uint)Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref keys, 16), vx).ExtractMostSignificantBits() << 16)
                | ((uint)Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref keys, 24), vx).ExtractMostSignificantBits() << 24);
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
            ulong pairs = count > 0 ? (ulong)(count - 1) : 0;
            Vector512<ulong> best = Vector512.Max(
                Vector512.Max(HoleLanes(ref lo, ref hi, 0, pairs), HoleLanes(ref lo, ref hi, 8, pairs)),
                Vector512.Max(HoleLanes(ref lo, ref hi, 16, pairs), HoleLanes(ref lo, ref hi, 24, pairs)));
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
            ulong n = (ulong)count;
            Vector512<ulong> best = Vector512.Max(
                Vector512.Max(ValueLanes(ref values, 0, n), ValueLanes(ref values, 8, n)),
                Vector512.Max(ValueLanes(ref values, 16, n), ValueLanes(ref values, 24, n)));
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
            uint mask = (uint)Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref values), vn).ExtractMostSignificantBits()
                | ((uint)Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref values, 8), vn).ExtractMostSignificantBits() << 8)
                | ((uint)Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref values, 16), vn).ExtractMostSignificantBits() << 16)
                | ((uint)Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref values, 24), vn).ExtractMostSignificantBits() << 24);
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
            uint mask = (uint)Vector512.GreaterThanOrEqual(Holes(ref lo, ref hi, 0), vn).ExtractMostSignificantBits()
                | ((uint)Vector512.GreaterThanOrEqual(Holes(ref lo, ref hi, 8), vn).ExtractMostSignificantBits() << 8)
                | ((uint)Vector512.GreaterThanOrEqual(Holes(ref lo, ref hi, 16), vn).ExtractMostSignificantBits() << 16)
                | ((uint)Vector512.GreaterThanOrEqual(Holes(ref lo, ref hi, 24), vn).ExtractMostSignificantBits() << 24);
            return count <= 1 ? 0 : mask & LowBits(count - 1);
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

    /// <summary>Hole sizes <c>lo[j + 1] - hi[j] - 1</c> for the eight pairs starting at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Holes(ref ulong lo, ref ulong hi, int offset) =>
        Vector512.LoadUnsafe(ref lo, (nuint)(offset + 1)) - Vector512.LoadUnsafe(ref hi, (nuint)offset) - Vector512<ulong>.One;

    /// <summary><see cref="Holes"/> with the lanes at or past <paramref name="pairs"/> zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> HoleLanes(ref ulong lo, ref ulong hi, int offset, ulong pairs) =>
        Vector512.ConditionalSelect(InRun(offset, pairs), Holes(ref lo, ref hi, offset), Vector512<ulong>.Zero);

    /// <summary>The eight values starting at <paramref name="offset"/>, with lanes at or past <paramref name="count"/> zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> ValueLanes(ref ulong values, int offset, ulong count) =>
        Vector512.ConditionalSelect(InRun(offset, count), Vector512.LoadUnsafe(ref values, (nuint)offset), Vector512<ulong>.Zero);

    /// <summary>All-ones in lanes whose slot index (<paramref name="offset"/> + lane) is below <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> InRun(int offset, ulong count) =>
        Vector512.LessThan(Vector512<ulong>.Indices + Vector512.Create((ulong)offset), Vector512.Create(count));

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
