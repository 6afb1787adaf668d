using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

public sealed class ReservedRangesTests
{
    private static List<(ulong, ulong)> Holes(ReservedRanges r, ulong first = 0, ulong last = ulong.MaxValue)
    {
        var list = new List<(ulong, ulong)>();
        foreach (IovaRange h in r.EnumerateHoles(first, last))
        {
            list.Add((h.Start, h.Last));
        }

        return list;
    }

    [Fact]
    public void Empty_has_one_hole_covering_everything()
    {
        var r = new ReservedRanges();
        Assert.Equal([(0UL, ulong.MaxValue)], Holes(r));
        Assert.False(r.Intersects(0, ulong.MaxValue));
    }

    [Fact]
    public void Overlapping_and_touching_ranges_merge_in_the_union()
    {
        var r = new ReservedRanges();
        var a = new object();
        var b = new object();
        r.Add(100, 199, a);
        r.Add(150, 299, b); // overlaps a
        r.Add(300, 399, a); // touches b
        r.Add(1000, 1000, null);
        Assert.Equal(4, r.Count);
        Assert.Equal(2, r.SegmentCount);
        Assert.Equal(new IovaRange(100, 399), r.GetSegment(0));
        Assert.Equal([(0UL, 99UL), (400UL, 999UL), (1001UL, ulong.MaxValue)], Holes(r));

        Assert.True(r.Intersects(399, 500));
        Assert.False(r.Intersects(400, 999));
        Assert.True(r.Intersects(0, 100));
        Assert.True(r.TryFindFirstIntersecting(0, ulong.MaxValue, out IovaRange seg));
        Assert.Equal(new IovaRange(100, 399), seg);

        // Removing one owner leaves the other's ranges, even where they overlapped.
        Assert.Equal(2, r.RemoveOwner(a));
        Assert.Equal([(0UL, 149UL), (300UL, 999UL), (1001UL, ulong.MaxValue)], Holes(r));
        Assert.Equal(1, r.RemoveOwner(null));
        Assert.Equal(0, r.RemoveOwner(a));
        Assert.Equal([(0UL, 149UL), (300UL, ulong.MaxValue)], Holes(r));
    }

    [Fact]
    public void Extremes_of_the_space()
    {
        var r = new ReservedRanges();
        r.Add(0, 0, null);
        r.Add(ulong.MaxValue, ulong.MaxValue, null);
        Assert.Equal([(1UL, ulong.MaxValue - 1)], Holes(r));
        r.Add(0, ulong.MaxValue, null);
        Assert.Empty(Holes(r));
        Assert.Equal(1, r.SegmentCount);
    }

    [Fact]
    public void Aperture_style_reservations()
    {
        // A mock domain's aperture [1<<24, (1<<31)-1] reserves everything else (spec §4.4).
        var r = new ReservedRanges();
        var domain = new object();
        r.Add(0, (1UL << 24) - 1, domain);
        r.Add(1UL << 31, ulong.MaxValue, domain);
        Assert.Equal([(1UL << 24, (1UL << 31) - 1)], Holes(r));
        r.RemoveOwner(domain);
        Assert.Equal([(0UL, ulong.MaxValue)], Holes(r));
    }

    [Fact]
    public void Holes_clipped_to_a_window()
    {
        var r = new ReservedRanges();
        r.Add(100, 199, null);
        r.Add(300, 399, null);
        Assert.Equal([(200UL, 299UL)], Holes(r, 150, 350));
        Assert.Equal([(50UL, 99UL), (200UL, 250UL)], Holes(r, 50, 250));
        Assert.Empty(Holes(r, 100, 199));
        Assert.Empty(Holes(r, 10, 9));
        Assert.Equal([(400UL, 400UL)], Holes(r, 350, 400));
    }

    [Fact]
    public void Many_ranges_stay_consistent_with_a_naive_union()
    {
        var rng = new Random(5);
        var r = new ReservedRanges();
        var owners = new[] { new object(), new object(), new object() };
        var model = new List<(ulong Start, ulong Last, object? Owner)>();
        for (int step = 0; step < 2000; step++)
        {
            if (rng.Next(4) == 0)
            {
                object o = owners[rng.Next(3)];
                Assert.Equal(model.RemoveAll(x => x.Owner == o), r.RemoveOwner(o));
            }
            else
            {
                ulong s = (ulong)rng.Next(0, 10_000);
                ulong l = s + (ulong)rng.Next(0, 300);
                object o = owners[rng.Next(3)];
                r.Add(s, l, o);
                model.Add((s, l, o));
            }

            var expected = ReferenceIoPageTable.Holes(ReferenceIoPageTable.Union(model.Select(x => (x.Start, x.Last))), 0, ulong.MaxValue);
            Assert.Equal(expected, Holes(r));
            ulong q0 = (ulong)rng.Next(0, 11_000);
            ulong q1 = q0 + (ulong)rng.Next(0, 100);
            Assert.Equal(model.Any(x => x.Start <= q1 && q0 <= x.Last), r.Intersects(q0, q1));
        }
    }
}
