using Ioasid.TestKit;
using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

public sealed class IntervalMapTests
{
    private static List<(ulong, ulong, int)> All(IntervalMap<int> map)
    {
        var list = new List<(ulong, ulong, int)>();
        foreach (Interval<int> i in map)
        {
            list.Add((i.Start, i.Last, i.Value));
        }

        return list;
    }

    private static List<(ulong, ulong)> Intersecting(IntervalMap<int> map, ulong first, ulong last)
    {
        var list = new List<(ulong, ulong)>();
        foreach (Interval<int> i in map.EnumerateIntersecting(first, last))
        {
            list.Add((i.Start, i.Last));
        }

        return list;
    }

    [Fact]
    public void Empty_map_finds_nothing()
    {
        var map = new IntervalMap<int>();
        Assert.Equal(0, map.Count);
        Assert.False(map.TryFind(0, out _));
        Assert.False(map.TryFind(ulong.MaxValue, out _));
        Assert.False(map.Intersects(0, ulong.MaxValue));
        Assert.False(map.Remove(0));
        Assert.Empty(All(map));
        map.Validate();
    }

    [Fact]
    public void Single_byte_interval_at_zero()
    {
        var map = new IntervalMap<int>();
        Assert.True(map.TryInsert(0, 0, 7, out _));
        Assert.True(map.TryFind(0, out Interval<int> hit));
        Assert.Equal((0UL, 0UL, 7), (hit.Start, hit.Last, hit.Value));
        Assert.False(map.TryFind(1, out _));
        Assert.False(map.TryInsert(0, 5, 8, out Interval<int> conflict));
        Assert.Equal(0UL, conflict.Start);
        Assert.True(map.TryInsert(1, 1, 9, out _)); // adjacent is not overlapping
        map.Validate();
    }

    [Fact]
    public void Interval_ending_at_ulong_max()
    {
        var map = new IntervalMap<int>();
        Assert.True(map.TryInsert(ulong.MaxValue - 4095, ulong.MaxValue, 1, out _));
        Assert.True(map.TryFind(ulong.MaxValue, out Interval<int> hit));
        Assert.Equal(ulong.MaxValue, hit.Last);
        Assert.Equal(4095UL, hit.LengthMinusOne);
        Assert.True(map.TryFindFirstIntersecting(ulong.MaxValue, ulong.MaxValue, out _));
        Assert.False(map.TryInsert(ulong.MaxValue, ulong.MaxValue, 2, out _));
        Assert.True(map.TryInsert(0, ulong.MaxValue - 4096, 3, out _)); // fills the rest of the space
        Assert.Equal([(0UL, ulong.MaxValue - 4096, 3), (ulong.MaxValue - 4095, ulong.MaxValue, 1)], All(map));
        Assert.True(map.Remove(ulong.MaxValue - 4095));
        Assert.False(map.TryFind(ulong.MaxValue, out _));
        map.Validate();
    }

    [Fact]
    public void Whole_space_interval()
    {
        var map = new IntervalMap<int>();
        Assert.True(map.TryInsert(0, ulong.MaxValue, 1, out _));
        Assert.True(map.TryFind(12345, out _));
        Assert.False(map.TryInsert(ulong.MaxValue, ulong.MaxValue, 2, out Interval<int> c));
        Assert.Equal(0UL, c.Start);
        var fit = new AlignedHoleFit(1, 1, 0);
        Assert.False(map.TryFindFirstHole(0, ulong.MaxValue, ref fit, out _));
        map.Validate();
    }

    [Fact]
    public void Insert_rejects_last_below_start()
    {
        var map = new IntervalMap<int>();
        Assert.Throws<ArgumentOutOfRangeException>(() => map.TryInsert(10, 9, 0, out _));
    }

    [Fact]
    public void Overlap_reports_lowest_conflicting_interval()
    {
        var map = new IntervalMap<int>();
        Assert.True(map.TryInsert(100, 199, 1, out _));
        Assert.True(map.TryInsert(300, 399, 2, out _));

        // Overlaps both: the predecessor (lowest) is reported.
        Assert.False(map.TryInsert(150, 350, 3, out Interval<int> c));
        Assert.Equal((100UL, 199UL, 1), (c.Start, c.Last, c.Value));

        // Starts in a hole, reaches the successor.
        Assert.False(map.TryInsert(200, 300, 3, out c));
        Assert.Equal(300UL, c.Start);

        // Covers an interval completely.
        Assert.False(map.TryInsert(250, 450, 3, out c));
        Assert.Equal(300UL, c.Start);

        // Same start.
        Assert.False(map.TryInsert(300, 300, 3, out c));
        Assert.Equal(300UL, c.Start);

        // Contained inside.
        Assert.False(map.TryInsert(310, 320, 3, out c));
        Assert.Equal(300UL, c.Start);

        // Exactly fills the hole: fine.
        Assert.True(map.TryInsert(200, 299, 4, out _));
        Assert.Equal(3, map.Count);
        map.Validate();
    }

    [Fact]
    public void Overlap_with_successor_in_next_leaf_is_detected()
    {
        var map = new IntervalMap<int>();
        for (ulong i = 0; i < 1000; i++)
        {
            Assert.True(map.TryInsert(i * 100, i * 100 + 49, (int)i, out _));
        }

        Assert.True(map.Height >= 1);

        // For every gap, an interval reaching one byte into the successor must be refused with that successor.
        for (ulong i = 0; i < 999; i++)
        {
            Assert.False(map.TryInsert(i * 100 + 50, i * 100 + 100, -1, out Interval<int> c));
            Assert.Equal((i + 1) * 100, c.Start);
            Assert.True(map.TryInsert(i * 100 + 50, i * 100 + 99, -1, out _));
            Assert.True(map.Remove(i * 100 + 50));
        }

        map.Validate();
    }

    [Fact]
    public void Lookup_hits_inside_and_misses_gaps()
    {
        var map = new IntervalMap<int>();
        for (ulong i = 1; i <= 5000; i++)
        {
            Assert.True(map.TryInsert(i * 0x10000, i * 0x10000 + 0xfff, (int)i, out _));
        }

        map.Validate();
        for (ulong i = 1; i <= 5000; i++)
        {
            Assert.True(map.TryFind(i * 0x10000, out Interval<int> a));
            Assert.Equal((int)i, a.Value);
            Assert.True(map.TryFind(i * 0x10000 + 0xfff, out a));
            Assert.Equal((int)i, a.Value);
            Assert.False(map.TryFind(i * 0x10000 + 0x1000, out _));
            Assert.False(map.TryFind(i * 0x10000 - 1, out _));
        }

        Assert.False(map.TryFind(0, out _));
        Assert.False(map.TryFind(ulong.MaxValue, out _));
    }

    [Fact]
    public void First_intersecting_and_enumeration()
    {
        var map = new IntervalMap<int>();
        for (ulong i = 0; i < 300; i++)
        {
            Assert.True(map.TryInsert(i * 10, i * 10 + 4, (int)i, out _));
        }

        Assert.True(map.TryFindFirstIntersecting(5, 9, out _) == false);
        Assert.True(map.TryFindFirstIntersecting(5, 10, out Interval<int> f));
        Assert.Equal(10UL, f.Start);
        Assert.True(map.TryFindFirstIntersecting(14, 100, out f));
        Assert.Equal(10UL, f.Start);
        Assert.False(map.TryFindFirstIntersecting(2995, ulong.MaxValue, out _));
        Assert.False(map.TryFindFirstIntersecting(10, 9, out _)); // empty range

        Assert.Equal([(10UL, 14UL), (20UL, 24UL), (30UL, 34UL)], Intersecting(map, 13, 30));
        Assert.Equal(300, Intersecting(map, 0, ulong.MaxValue).Count);
        Assert.Empty(Intersecting(map, 5, 9));

        // Crossing many leaves: every interval from 1000 to 2000 in order.
        var mid = Intersecting(map, 1000, 2000);
        Assert.Equal(101, mid.Count);
        Assert.Equal(Enumerable.Range(100, 101).Select(i => ((ulong)i * 10, (ulong)i * 10 + 4)), mid);
    }

    [Fact]
    public void Enumerator_detects_modification()
    {
        var map = new IntervalMap<int>();
        map.TryInsert(1, 1, 0, out _);
        map.TryInsert(3, 3, 0, out _);
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (Interval<int> i in map)
            {
                map.Remove(i.Start);
            }
        });
    }

    [Fact]
    public void Remove_requires_exact_start_and_returns_payload()
    {
        var map = new IntervalMap<string>();
        map.TryInsert(100, 200, "a", out _);
        Assert.False(map.Remove(101));
        Assert.False(map.Remove(99));
        Assert.True(map.Remove(100, out Interval<string> removed));
        Assert.Equal("a", removed.Value);
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public void TrySetValue_replaces_payload()
    {
        var map = new IntervalMap<string>();
        map.TryInsert(100, 200, "a", out _);
        Assert.True(map.TrySetValue(100, "b"));
        Assert.False(map.TrySetValue(150, "c"));
        Assert.True(map.TryFind(150, out Interval<string> hit));
        Assert.Equal("b", hit.Value);
    }

    [Fact]
    public void Grows_and_shrinks_through_many_levels_staying_valid()
    {
        var map = new IntervalMap<int>();
        const int N = 40_000;

        // Interleaved order so splits happen everywhere, not just at the right edge.
        for (int k = 0; k < N; k++)
        {
            ulong i = (ulong)((k * 7919L) % N);
            Assert.True(map.TryInsert(i * 3, i * 3 + 1, k, out _));
        }

        map.Validate();
        Assert.Equal(N, map.Count);
        Assert.True(map.Height >= 3);

        for (int k = 0; k < N; k++)
        {
            ulong i = (ulong)((k * 104729L) % N);
            Assert.True(map.Remove(i * 3));
            if (k % 4096 == 0)
            {
                map.Validate();
            }
        }

        map.Validate();
        Assert.Equal(0, map.Count);
        Assert.Equal(0, map.Height);
    }

    [Fact]
    public void Clear_empties_and_map_is_reusable()
    {
        var map = new IntervalMap<int>();
        for (ulong i = 0; i < 1000; i++)
        {
            map.TryInsert(i * 2, i * 2, 0, out _);
        }

        map.Clear();
        map.Validate();
        Assert.Equal(0, map.Count);
        Assert.False(map.TryFind(0, out _));
        Assert.True(map.TryInsert(0, 10, 1, out _));
        map.Validate();
    }

    [Fact]
    public void Hole_search_visits_holes_in_order_with_clipping()
    {
        var map = new IntervalMap<int>();
        map.TryInsert(100, 199, 0, out _);
        map.TryInsert(300, 399, 0, out _);

        var fit = new AlignedHoleFit(50, 1, 0);
        Assert.True(map.TryFindFirstHole(0, 1000, ref fit, out ulong at));
        Assert.Equal(0UL, at); // leading hole [0, 99]
        Assert.True(map.TryFindFirstHole(60, 1000, ref fit, out at));
        Assert.Equal(200UL, at); // [60, 99] is too small once clipped
        Assert.True(map.TryFindFirstHole(260, 1000, ref fit, out at));
        Assert.Equal(400UL, at); // [260, 299] too small, trailing hole
        Assert.False(map.TryFindFirstHole(260, 420, ref fit, out _)); // trailing hole clipped to 21 bytes

        var big = new AlignedHoleFit(101, 1, 0);
        Assert.True(map.TryFindFirstHole(0, ulong.MaxValue, ref big, out at));
        Assert.Equal(400UL, at); // no inner hole is big enough

        var aligned = new AlignedHoleFit(40, 256, 0);
        Assert.True(map.TryFindFirstHole(1, 1000, ref aligned, out at));
        Assert.Equal(256UL, at); // [1, 99] has no 256-aligned start; [200, 299]: ALIGN(200, 256) = 256, 256 + 39 <= 299

        var misaligned = new AlignedHoleFit(64, 256, 0);
        Assert.True(map.TryFindFirstHole(1, 1000, ref misaligned, out at));
        Assert.Equal(512UL, at); // [200, 299] is big enough but 256 + 63 > 299: the alignment pushes it out
    }

    [Fact]
    public void Hole_search_in_deep_tree_finds_the_only_hole()
    {
        var map = new IntervalMap<int>();
        const ulong N = 50_000;
        for (ulong i = 0; i < N; i++)
        {
            map.TryInsert(i * 0x1000, i * 0x1000 + 0xfff, 0, out _);
        }

        var fit = new AlignedHoleFit(0x1000, 0x1000, 0);
        for (ulong hole = 1; hole < N; hole += 997)
        {
            Assert.True(map.Remove(hole * 0x1000));
            Assert.True(map.TryFindFirstHole(0, N * 0x1000 - 1, ref fit, out ulong at));
            Assert.Equal(hole * 0x1000, at);
            Assert.True(map.TryInsert(hole * 0x1000, hole * 0x1000 + 0xfff, 0, out _));
        }

        Assert.False(map.TryFindFirstHole(0, N * 0x1000 - 1, ref fit, out _));
        Assert.True(map.TryFindFirstHole(0, ulong.MaxValue, ref fit, out ulong tail));
        Assert.Equal(N * 0x1000, tail);
        map.Validate();
    }

    [Fact]
    public void No_allocation_in_steady_state_insert_remove_lookup()
    {
        var map = new IntervalMap<object>();
        var payload = new object();
        for (ulong i = 0; i < 10_000; i++)
        {
            map.TryInsert(i * 0x2000, i * 0x2000 + 0xfff, payload, out _);
        }

        // Warm up every path once, then measure.
        void Cycle()
        {
            for (ulong i = 0; i < 10_000; i += 7)
            {
                map.TryInsert(i * 0x2000 + 0x1000, i * 0x2000 + 0x1fff, payload, out _);
                map.TryFind(i * 0x2000 + 0x1800, out _);
                map.Remove(i * 0x2000 + 0x1000);
            }

            var fit = new AlignedHoleFit(0x1000, 0x1000, 0);
            map.TryFindFirstHole(0, ulong.MaxValue, ref fit, out _);
            foreach (Interval<object> x in map.EnumerateIntersecting(0, 0x100000))
            {
                _ = x;
            }
        }

        Assert.Equal(0, Allocations.SteadyState(Cycle));
    }
}
