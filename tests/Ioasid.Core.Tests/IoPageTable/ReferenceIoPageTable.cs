using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

/// <summary>
/// The obviously-correct model the property tests compare against: plain sorted lists and linear scans, written
/// straight from the spec (§3.4, §4.3–4.4) and the kernel's <c>iopt_alloc_iova</c> / <c>iopt_check_iova</c> /
/// <c>iopt_reserve_iova</c>, sharing no code with the implementation under test.
/// </summary>
internal sealed class ReferenceIoPageTable
{
    private const ulong Page = 4096;

    /// <summary>Areas sorted by start.</summary>
    public List<(ulong Start, ulong Last, int Value)> Areas { get; } = [];

    /// <summary>Reservations, unordered.</summary>
    public List<(ulong Start, ulong Last, object? Owner)> Reserved { get; } = [];

    /// <summary>Allowed ranges, sorted by start.</summary>
    public List<(ulong Start, ulong Last)> Allowed { get; private set; } = [];

    public ulong IovaAlignment { get; set; } = 1;

    private static bool Overlap(ulong a0, ulong a1, ulong b0, ulong b1) => a0 <= b1 && b0 <= a1;

    public int IndexOfAreaContaining(ulong address)
    {
        for (int i = 0; i < Areas.Count; i++)
        {
            if (Areas[i].Start <= address && address <= Areas[i].Last)
            {
                return i;
            }
        }

        return -1;
    }

    public int IndexOfFirstAreaIntersecting(ulong first, ulong last)
    {
        for (int i = 0; i < Areas.Count; i++)
        {
            if (Overlap(Areas[i].Start, Areas[i].Last, first, last))
            {
                return i;
            }
        }

        return -1;
    }

    public bool TryInsertArea(ulong start, ulong last, int value)
    {
        if (IndexOfFirstAreaIntersecting(start, last) >= 0)
        {
            return false;
        }

        int pos = 0;
        while (pos < Areas.Count && Areas[pos].Start < start)
        {
            pos++;
        }

        Areas.Insert(pos, (start, last, value));
        return true;
    }

    public bool RemoveArea(ulong start)
    {
        int i = Areas.FindIndex(a => a.Start == start);
        if (i < 0)
        {
            return false;
        }

        Areas.RemoveAt(i);
        return true;
    }

    public Errno CheckIova(ulong iova, ulong length)
    {
        if (length == 0 || iova % IovaAlignment != 0)
        {
            return Errno.EINVAL;
        }

        if ((UInt128)iova + length - 1 > ulong.MaxValue)
        {
            return Errno.EOVERFLOW;
        }

        ulong last = iova + length - 1;
        if (Reserved.Any(r => Overlap(r.Start, r.Last, iova, last)))
        {
            return Errno.EINVAL;
        }

        return IndexOfFirstAreaIntersecting(iova, last) >= 0 ? Errno.EEXIST : Errno.None;
    }

    public Errno Reserve(ulong start, ulong last, object? owner)
    {
        if (IndexOfFirstAreaIntersecting(start, last) >= 0 || Allowed.Any(a => Overlap(a.Start, a.Last, start, last)))
        {
            return Errno.EADDRINUSE;
        }

        Reserved.Add((start, last, owner));
        return Errno.None;
    }

    public int RemoveOwner(object? owner) => Reserved.RemoveAll(r => ReferenceEquals(r.Owner, owner));

    public Errno SetAllowed(IReadOnlyList<(ulong Start, ulong Last)> ranges)
    {
        var loaded = new List<(ulong Start, ulong Last)>();
        foreach (var r in ranges)
        {
            if (r.Start >= r.Last || loaded.Any(l => Overlap(l.Start, l.Last, r.Start, r.Last)))
            {
                return Errno.EINVAL;
            }

            loaded.Add(r);
        }

        if (loaded.Any(a => Reserved.Any(r => Overlap(r.Start, r.Last, a.Start, a.Last))))
        {
            return Errno.EADDRINUSE;
        }

        Allowed = loaded.OrderBy(a => a.Start).ToList();
        return Errno.None;
    }

    /// <summary>Union of intervals as disjoint, non-touching, sorted segments.</summary>
    public static List<(ulong Start, ulong Last)> Union(IEnumerable<(ulong Start, ulong Last)> intervals)
    {
        var result = new List<(ulong Start, ulong Last)>();
        foreach (var (s, l) in intervals.OrderBy(x => x.Start))
        {
            if (result.Count > 0 && (UInt128)s <= (UInt128)result[^1].Last + 1)
            {
                if (l > result[^1].Last)
                {
                    result[^1] = (result[^1].Start, l);
                }
            }
            else
            {
                result.Add((s, l));
            }
        }

        return result;
    }

    /// <summary>Union of two start-sorted lists by a linear merge (the areas list can be long).</summary>
    private static List<(ulong Start, ulong Last)> UnionOfSorted(
        List<(ulong Start, ulong Last)> a, List<(ulong Start, ulong Last, int Value)> b)
    {
        var merged = new List<(ulong Start, ulong Last)>(a.Count + b.Count);
        int i = 0;
        int j = 0;
        while (i < a.Count || j < b.Count)
        {
            (ulong s, ulong l) = j >= b.Count || (i < a.Count && a[i].Start <= b[j].Start)
                ? a[i++]
                : (b[j].Start, b[j++].Last);
            if (merged.Count > 0 && (UInt128)s <= (UInt128)merged[^1].Last + 1)
            {
                if (l > merged[^1].Last)
                {
                    merged[^1] = (merged[^1].Start, l);
                }
            }
            else
            {
                merged.Add((s, l));
            }
        }

        return merged;
    }

    /// <summary>Complement of a sorted union inside [first, last].</summary>
    public static List<(ulong Start, ulong Last)> Holes(List<(ulong Start, ulong Last)> union, ulong first, ulong last)
    {
        var holes = new List<(ulong Start, ulong Last)>();
        UInt128 cursor = first;
        foreach (var (s, l) in union)
        {
            if (l < cursor)
            {
                continue;
            }

            if (s > last)
            {
                break;
            }

            if (s > cursor)
            {
                holes.Add(((ulong)cursor, s - 1));
            }

            cursor = (UInt128)l + 1;
        }

        if (cursor <= last)
        {
            holes.Add(((ulong)cursor, last));
        }

        return holes;
    }

    /// <summary>IOMMU_IOAS_IOVA_RANGES: holes of the reserved union over the whole space.</summary>
    public List<(ulong Start, ulong Last)> IovaRanges() =>
        Holes(Union(Reserved.Select(r => (r.Start, r.Last))), 0, ulong.MaxValue);

    public static ulong Alignment(ulong source, ulong length, ulong maxAlignment)
    {
        ulong a = 1;
        while (a < length)
        {
            a <<= 1;
        }

        if (source != 0)
        {
            ulong low = 1;
            while ((source & low) == 0)
            {
                low <<= 1;
            }

            if (low < a)
            {
                a = low;
            }
        }

        return a >= maxAlignment ? maxAlignment : a;
    }

    /// <summary>The kernel's per-hole placement: ALIGN(start) | page_offset, then the whole length must fit.</summary>
    public static bool Place(ulong start, ulong last, ulong length, ulong alignment, ulong pageOffset, out ulong at)
    {
        at = 0;
        UInt128 aligned = ((UInt128)start + alignment - 1) / alignment * alignment;
        if (aligned > ulong.MaxValue)
        {
            return false; // ALIGN() would wrap: treated as no fit (documented difference from the kernel)
        }

        ulong candidate = (ulong)aligned | pageOffset;
        if (candidate > last || (UInt128)candidate + length - 1 > last)
        {
            return false;
        }

        at = candidate;
        return true;
    }

    public Errno Allocate(ulong source, ulong length, ulong maxAlignment, out ulong iova)
    {
        iova = 0;
        if (length == 0 || length >= ulong.MaxValue / 2)
        {
            return Errno.EOVERFLOW;
        }

        ulong alignment = Alignment(source, length, maxAlignment);
        if (alignment < IovaAlignment)
        {
            return Errno.EINVAL;
        }

        ulong pageOffset = source % Page;
        const ulong lo = Page;
        const ulong hi = ulong.MaxValue - Page;

        List<(ulong Start, ulong Last)> spans = Allowed.Count == 0
            ? [(lo, hi)]
            : Union(Allowed)
                .Where(a => a.Last >= lo && a.Start <= hi)
                .Select(a => (Math.Max(a.Start, lo), Math.Min(a.Last, hi)))
                .ToList();

        var used = UnionOfSorted(Union(Reserved.Select(r => (r.Start, r.Last))), Areas);
        foreach (var (s, e) in spans)
        {
            if (!Place(s, e, length, alignment, pageOffset, out ulong from))
            {
                continue;
            }

            foreach (var (hs, he) in Holes(used, from, e))
            {
                if (Place(hs, he, length, alignment, pageOffset, out iova))
                {
                    return Errno.None;
                }
            }
        }

        return Errno.ENOSPC;
    }
}
