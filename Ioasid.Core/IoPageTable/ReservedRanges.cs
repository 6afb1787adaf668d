using System;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// The IOAS's reserved IOVA (the kernel's <c>reserved_itree</c>): ranges that may overlap each other, each tagged
/// with an owner, plus the merged union that every query actually needs.
/// </summary>
/// <remarks>
/// Reservations change rarely (domain attach/detach, device attach/detach, a few ranges each) while the union is
/// read on every map: "does this fixed IOVA hit a reservation" and, during automatic allocation, "where are the holes".
/// So the raw entries are kept in a plain sorted array and the union is rebuilt in O(R) after each change, and
/// queries run on the union's two sorted arrays by binary search: O(log R) per query, O(R) per change. Reading never
/// allocates; changing may grow the arrays.
/// </remarks>
internal sealed partial class ReservedRanges
{
    private ReservedRange[] _entries = new ReservedRange[4];
    private int _entryCount;

    // The union: disjoint, non-adjacent, ascending segments (touching ranges are merged, so every gap is a real hole).
    private ulong[] _segStart = new ulong[4];
    private ulong[] _segLast = new ulong[4];
    private int _segCount;

    /// <summary>Number of reservations (not merged).</summary>
    public int Count => _entryCount;

    /// <summary>Number of disjoint segments in the union of all reservations.</summary>
    public int SegmentCount => _segCount;

    /// <summary>The reservations, ordered by start (ties in insertion order).</summary>
    public ReadOnlySpan<ReservedRange> Entries => _entries.AsSpan(0, _entryCount);

    /// <summary>Segment <paramref name="index"/> of the union, in ascending order.</summary>
    public IovaRange GetSegment(int index)
    {
        if ((uint)index >= (uint)_segCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        return new IovaRange(_segStart[index], _segLast[index]);
    }

    /// <summary>
    /// Records the reservation <c>[start, last]</c> for <paramref name="owner"/>. Overlapping other reservations is
    /// allowed. Checking it against areas and allowed ranges is the caller's job (see <see cref="IovaSpace{TArea}"/>).
    /// O(R).
    /// </summary>
    public void Add(ulong start, ulong last, object? owner)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), "A reserved range's last address must not be below its start.");
        }

        if (_entryCount == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        // After every entry with the same or a lower start: keeps the array sorted and ties in insertion order.
        int pos = _entryCount;
        while (pos > 0 && _entries[pos - 1].Start > start)
        {
            pos--;
        }

        Array.Copy(_entries, pos, _entries, pos + 1, _entryCount - pos);
        _entries[pos] = new ReservedRange(start, last, owner);
        _entryCount++;
        RebuildUnion();
    }

    /// <summary>
    /// Removes every reservation owned by <paramref name="owner"/> (compared by reference; null matches the
    /// null-owned ones). O(R).
    /// </summary>
    /// <returns>How many reservations were removed.</returns>
    public int RemoveOwner(object? owner)
    {
        int kept = 0;
        for (int i = 0; i < _entryCount; i++)
        {
            if (!ReferenceEquals(_entries[i].Owner, owner))
            {
                _entries[kept++] = _entries[i];
            }
        }

        int removed = _entryCount - kept;
        Array.Clear(_entries, kept, removed);
        _entryCount = kept;
        if (removed != 0)
        {
            RebuildUnion();
        }

        return removed;
    }

    /// <summary>Removes every reservation.</summary>
    public void Clear()
    {
        Array.Clear(_entries, 0, _entryCount);
        _entryCount = 0;
        _segCount = 0;
    }

    /// <summary>True when some reservation shares at least one address with <c>[first, last]</c>. O(log R).</summary>
    public bool Intersects(ulong first, ulong last) => TryFindFirstIntersecting(first, last, out _);

    /// <summary>
    /// Finds the lowest segment of the union that intersects <c>[first, last]</c>. O(log R).
    /// </summary>
    public bool TryFindFirstIntersecting(ulong first, ulong last, out IovaRange segment)
    {
        int k = FirstSegmentEndingAtOrAfter(first);
        if (first <= last && k < _segCount && _segStart[k] <= last)
        {
            segment = new IovaRange(_segStart[k], _segLast[k]);
            return true;
        }

        segment = default;
        return false;
    }

    /// <summary>
    /// Enumerates the holes (maximal runs of unreserved addresses) inside <c>[first, last]</c>, ascending: with the
    /// defaults, the complement of the union over the whole space, which is what <c>IOMMU_IOAS_IOVA_RANGES</c>
    /// reports. O(log R) to start, O(1) per hole; allocation-free.
    /// </summary>
    public HoleEnumerator EnumerateHoles(ulong first = 0, ulong last = ulong.MaxValue) =>
        new(this, first, last, FirstSegmentEndingAtOrAfter(first));

    /// <summary>Index of the first union segment whose last address is at least <paramref name="address"/>.</summary>
    private int FirstSegmentEndingAtOrAfter(ulong address)
    {
        // Segments are disjoint and ascending, so their last addresses are ascending too.
        int lo = 0;
        int hi = _segCount;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_segLast[mid] < address)
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

    /// <summary>Merges the start-sorted entries into disjoint, non-touching segments.</summary>
    private void RebuildUnion()
    {
        if (_segStart.Length < _entryCount)
        {
            int size = Math.Max(_entryCount, _segStart.Length * 2);
            _segStart = new ulong[size];
            _segLast = new ulong[size];
        }

        int n = 0;
        for (int i = 0; i < _entryCount; i++)
        {
            ulong s = _entries[i].Start;
            ulong l = _entries[i].Last;

            // Merge when overlapping or touching: s <= last + 1, written as s - 1 <= last so a segment ending at
            // ulong.MaxValue cannot overflow (s == 0 means an earlier entry also starts at 0, so it overlaps).
            if (n > 0 && (s == 0 || s - 1 <= _segLast[n - 1]))
            {
                if (l > _segLast[n - 1])
                {
                    _segLast[n - 1] = l;
                }

                continue;
            }

            _segStart[n] = s;
            _segLast[n] = l;
            n++;
        }

        _segCount = n;
    }
}
