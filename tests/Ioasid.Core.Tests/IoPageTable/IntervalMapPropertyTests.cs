using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

/// <summary>
/// The interval map alone at depth: tens of thousands of intervals (three or more levels), then seeded random
/// inserts, removes, lookups, range queries and first-fit hole searches compared with a sorted list searched by
/// binary search and linear walks, with the structural checker run along the way.
/// </summary>
public sealed class IntervalMapPropertyTests
{
    private const ulong Space = 1UL << 32;

    [Theory]
    [InlineData(101)]
    [InlineData(202)]
    [InlineData(303)]
    public void Deep_tree_matches_sorted_list(int seed)
    {
        var rng = new Random(seed);
        var map = new IntervalMap<int>();
        var model = new List<(ulong Start, ulong Last, int Value)>();

        int LowerBound(ulong start)
        {
            int lo = 0;
            int hi = model.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (model[mid].Start < start)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        // Index of the first model interval ending at or after `address`.
        int FirstEndingAtOrAfter(ulong address)
        {
            int lo = 0;
            int hi = model.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (model[mid].Last < address)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        (ulong, ulong) RandomInterval()
        {
            ulong s = (ulong)rng.NextInt64(0, (long)Space);
            ulong len = rng.Next(4) == 0 ? (ulong)rng.Next(1, 1 << 20) : (ulong)rng.Next(1, 1 << 16);
            return (s, s + len - 1);
        }

        void Insert(ulong s, ulong l, int v)
        {
            int k = FirstEndingAtOrAfter(s);
            bool overlaps = k < model.Count && model[k].Start <= l;
            Assert.Equal(!overlaps, map.TryInsert(s, l, v, out Interval<int> conflict));
            if (overlaps)
            {
                Assert.Equal(model[k].Start, conflict.Start);
            }
            else
            {
                model.Insert(LowerBound(s), (s, l, v));
            }
        }

        // Fill to ~30k intervals (height >= 3).
        int value = 0;
        while (model.Count < 30_000)
        {
            (ulong s, ulong l) = RandomInterval();
            Insert(s, l, value++);
        }

        map.Validate();
        Assert.True(map.Height >= 2);

        for (int step = 0; step < 20_000; step++)
        {
            int op = rng.Next(100);
            if (op < 25)
            {
                (ulong s, ulong l) = RandomInterval();
                Insert(s, l, value++);
            }
            else if (op < 50)
            {
                if (rng.Next(8) == 0)
                {
                    ulong s = (ulong)rng.NextInt64(0, (long)Space);
                    int k = LowerBound(s);
                    bool exists = k < model.Count && model[k].Start == s;
                    Assert.Equal(exists, map.Remove(s));
                    if (exists)
                    {
                        model.RemoveAt(k);
                    }
                }
                else if (model.Count > 0)
                {
                    int k = rng.Next(model.Count);
                    Assert.True(map.Remove(model[k].Start, out Interval<int> removed));
                    Assert.Equal(model[k].Value, removed.Value);
                    model.RemoveAt(k);
                }
            }
            else if (op < 70)
            {
                ulong a = (ulong)rng.NextInt64(0, (long)Space);
                int k = FirstEndingAtOrAfter(a);
                bool inside = k < model.Count && model[k].Start <= a;
                Assert.Equal(inside, map.TryFind(a, out Interval<int> hit));
                if (inside)
                {
                    Assert.Equal(model[k].Value, hit.Value);
                }

                ulong b = a + (ulong)rng.Next(0, 1 << 20);
                bool any = k < model.Count && model[k].Start <= b;
                Assert.Equal(any, map.TryFindFirstIntersecting(a, b, out Interval<int> first));
                if (any)
                {
                    Assert.Equal(model[k].Start, first.Start);
                    int n = 0;
                    foreach (Interval<int> x in map.EnumerateIntersecting(a, b))
                    {
                        Assert.Equal(model[k + n].Start, x.Start);
                        n++;
                    }

                    Assert.True(k + n == model.Count || model[k + n].Start > b);
                }
            }
            else
            {
                // First-fit hole search in a window (a full-space search now and then), with random alignment and
                // page offset; the model walks the holes of the window linearly.
                bool full = rng.Next(50) == 0;
                ulong lo = full ? 0 : (ulong)rng.NextInt64(0, (long)Space);
                ulong hi = full ? ulong.MaxValue : lo + (ulong)rng.Next(0, 1 << 24);
                ulong length = (ulong)rng.Next(1, 1 << 17);
                ulong align = 1UL << rng.Next(0, 18);
                ulong pageOffset = align < 4096 && rng.Next(2) == 0 ? (ulong)rng.Next(0, (int)(4096 / align)) * align : 0;
                var fit = new AlignedHoleFit(length, align, pageOffset);
                bool found = map.TryFindFirstHole(lo, hi, ref fit, out ulong at);

                bool expectedFound = false;
                ulong expectedAt = 0;
                UInt128 cursor = lo;
                for (int k = FirstEndingAtOrAfter(lo); ; k++)
                {
                    ulong holeLast = k < model.Count ? (model[k].Start == 0 ? 0 : model[k].Start - 1) : hi;
                    bool holeExists = k < model.Count ? model[k].Start > cursor : true;
                    if (k < model.Count && model[k].Start > hi)
                    {
                        holeLast = hi;
                        holeExists = cursor <= hi;
                    }

                    if (holeExists && cursor <= holeLast &&
                        ReferenceIoPageTable.Place((ulong)cursor, Math.Min(holeLast, hi), length, align, pageOffset, out expectedAt))
                    {
                        expectedFound = true;
                        break;
                    }

                    if (k >= model.Count || model[k].Start > hi)
                    {
                        break;
                    }

                    cursor = (UInt128)model[k].Last + 1;
                    if (cursor > hi)
                    {
                        break;
                    }
                }

                Assert.True(expectedFound == found, $"step {step}: hole search [{lo:x}, {hi:x}] len {length:x} align {align:x} found={found}");
                if (found)
                {
                    Assert.Equal(expectedAt, at);
                }
            }

            Assert.Equal(model.Count, map.Count);
            if (step % 1000 == 0)
            {
                map.Validate();
            }
        }

        map.Validate();
        int i = 0;
        foreach (Interval<int> x in map)
        {
            Assert.Equal((model[i].Start, model[i].Last, model[i].Value), (x.Start, x.Last, x.Value));
            i++;
        }

        Assert.Equal(model.Count, i);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void Shrinking_to_empty_and_regrowing_keeps_invariants(int seed)
    {
        var rng = new Random(seed);
        var map = new IntervalMap<int>();
        var present = new SortedSet<ulong>();
        for (int round = 0; round < 3; round++)
        {
            for (int k = 0; k < 5_000; k++)
            {
                ulong slot = (ulong)rng.Next(0, 20_000);
                if (map.TryInsert(slot * 4, slot * 4 + 2, 0, out _))
                {
                    Assert.True(present.Add(slot));
                }
                else
                {
                    Assert.Contains(slot, present);
                }
            }

            map.Validate();
            foreach (ulong slot in present.OrderBy(_ => rng.Next()).ToList())
            {
                Assert.True(map.Remove(slot * 4));
                present.Remove(slot);
                if (present.Count % 500 == 0)
                {
                    map.Validate();
                }
            }

            Assert.Equal(0, map.Count);
            Assert.Equal(0, map.Height);
        }
    }

    /// <summary>
    /// Inserts and removes that land next to the previous one reuse the previous descent (the finger). Drive exactly
    /// that, with leaves overflowing and underflowing, and check the structure after every step.
    /// </summary>
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void Neighbouring_operations_keep_invariants(int seed)
    {
        var rng = new Random(seed);
        var map = new IntervalMap<int>();
        var model = new SortedList<ulong, ulong>();
        ulong cursor = 1UL << 20;

        // Overlap check against the sorted model: only the predecessor and the successor can overlap.
        bool Free(ulong s, ulong l)
        {
            IList<ulong> keys = model.Keys;
            int lo = 0;
            int hi = keys.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (keys[mid] <= s)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            bool predOk = lo == 0 || model.Values[lo - 1] < s;
            bool succOk = lo == keys.Count || keys[lo] > l;
            return predOk && succOk;
        }
        for (int step = 0; step < 12_000; step++)
        {
            // Mostly near the cursor (same or adjacent leaf), sometimes a jump elsewhere.
            if (rng.Next(50) == 0)
            {
                cursor = (ulong)rng.Next(0, 1 << 16) * 0x100;
            }

            cursor += (ulong)rng.Next(-3, 5) * 0x100;
            ulong start = cursor;
            bool grow = model.Count < 2_000 ? rng.Next(3) != 0 : rng.Next(3) == 0;
            if (grow)
            {
                ulong last = start + (ulong)rng.Next(0, 0x100);
                bool free = Free(start, last);
                Assert.Equal(free, map.TryInsert(start, last, step, out _));
                if (free)
                {
                    model.Add(start, last);
                }
            }
            else
            {
                Assert.Equal(model.Remove(start), map.Remove(start));
            }

            if (step % 4 == 0)
            {
                map.Validate();
            }

            Assert.Equal(model.Count, map.Count);
        }

        map.Validate();
        Assert.Equal(model.Select(kv => (kv.Key, kv.Value)), All(map));

        // Sweeps: fill a region front to back, then empty it front to back and back to front. Consecutive removes
        // underflow leaves and then inner nodes one after another (merges and refills at every level), each followed
        // by a remove that reuses the previous descent.
        for (int round = 0; round < 3; round++)
        {
            ulong baseAddress = 1UL << (40 + round);
            int n = 6_000 + rng.Next(3_000);
            for (int k = 0; k < n; k++)
            {
                Assert.True(map.TryInsert(baseAddress + (ulong)k * 16, baseAddress + (ulong)k * 16 + 7, k, out _));
            }

            map.Validate();
            int cut = rng.Next(n);
            for (int k = cut; k < n; k++)
            {
                Assert.True(map.Remove(baseAddress + (ulong)k * 16));
                if (k % 3 == 0)
                {
                    map.Validate();
                }
            }

            for (int k = cut - 1; k >= 0; k--)
            {
                Assert.True(map.Remove(baseAddress + (ulong)k * 16));
                if (k % 3 == 0)
                {
                    map.Validate();
                }
            }

            map.Validate();
            Assert.Equal(model.Count, map.Count);
        }

        static List<(ulong, ulong)> All(IntervalMap<int> m)
        {
            var list = new List<(ulong, ulong)>();
            foreach (Interval<int> i in m)
            {
                list.Add((i.Start, i.Last));
            }

            return list;
        }
    }
}
