using System;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ioasid.Drivers.Hardware;

/// <summary>One cached translation: <see cref="Translation"/> under <see cref="Tag"/>, plus vendor data.</summary>
/// <param name="Tag">
/// What the translation belongs to, as the vendor model composes it: e.g. VT-d <c>DID &lt;&lt; 20 | PASID</c> (plus a
/// stage bit), SMMUv3 <c>VMID &lt;&lt; 16 | ASID</c>, the mock's domain tag. Invalidation matches it under a mask.
/// </param>
/// <param name="Translation">The leaf translation; its page size is the entry's size.</param>
/// <param name="VendorData">Anything else the vendor model keeps with the entry (level, PTE bits, PGTT, …).</param>
public readonly record struct IotlbEntry(ulong Tag, Translation Translation, ulong VendorData = 0);

/// <summary>
/// A hardware IOTLB shared by the hardware models: entries keyed by (tag, page number, page size), looked up in O(1)
/// per supported page size in an open-addressing hash table, with invalidation by tag, by tag and IOVA range, or
/// global. Tags are plain <see cref="ulong"/>s composed by the vendor model, and invalidation takes a tag mask, so
/// VT-d (domain id, PASID) and SMMUv3 (VMID, ASID) selections are both one call.
/// </summary>
/// <remarks>
/// <para>
/// Capacity is bounded like real hardware; inserting into a full IOTLB drops everything first (as QEMU's models do),
/// counted in <see cref="CapacityFlushes"/>. Lookups and inserts allocate nothing. Only successful walks are cached,
/// never faults (VT-d with CM = 0, SMMUv3).
/// </para>
/// <para>Not thread-safe: one hardware model uses it from one DMA engine at a time.</para>
/// </remarks>
public sealed class Iotlb
{
    private const ulong HashMultiplier = 0x9E37_79B9_7F4A_7C15UL;

    // A slot's key: this bit (so that 0 means empty) | page number << 6 | page shift. Shifts are at least 12, so the
    // page number has at most 52 bits and the key never overflows.
    private const ulong UsedBit = 1UL << 63;
    private const int KeyShiftBits = 6;
    private const ulong OutputFlagMask = (ulong)DmaAccess.ReadWrite;

    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly int _hashShift;
    private readonly int[] _pageShifts;
    private readonly int[] _countPerShift;
    private uint _liveShifts; // bit s set while _countPerShift[s] > 0: lookups try only the sizes that have entries
    private readonly byte[] _shiftIndex = new byte[64]; // page shift → its index in _pageShifts + 1; 0: not held
    private int _count;

    /// <summary>Creates an empty IOTLB.</summary>
    /// <param name="capacity">Entries held at most (e.g. 1024, QEMU VT-d's size).</param>
    /// <param name="pageShifts">The page sizes entries may have, as log2 (e.g. 12 and 21); lookups try them smallest first.</param>
    /// <exception cref="ArgumentOutOfRangeException">The capacity is not positive, or too large.</exception>
    /// <exception cref="ArgumentException">No page size, more than 8, or one outside 12–63.</exception>
    public Iotlb(int capacity, ReadOnlySpan<int> pageShifts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 24);
        if (pageShifts.IsEmpty || pageShifts.Length > 8)
        {
            throw new ArgumentException("An IOTLB needs one to eight page sizes.", nameof(pageShifts));
        }

        int[] shifts = pageShifts.ToArray();
        Array.Sort(shifts);
        for (int i = 0; i < shifts.Length; i++)
        {
            if (shifts[i] < 12 || shifts[i] > 63 || (i > 0 && shifts[i] == shifts[i - 1]))
            {
                throw new ArgumentException($"Page shift {shifts[i]} is outside 12-63 or repeated.", nameof(pageShifts));
            }
        }

        // At most half full: probes stay short.
        int slots = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _slots = new Slot[slots];
        _mask = slots - 1;
        _hashShift = 64 - BitOperations.Log2((uint)slots);
        _pageShifts = shifts;
        for (int i = 0; i < shifts.Length; i++)
        {
            _shiftIndex[shifts[i]] = (byte)(i + 1);
        }

        _countPerShift = new int[shifts.Length];
        Capacity = capacity;
    }

    /// <summary>Entries held at most.</summary>
    public int Capacity { get; }

    /// <summary>Entries currently cached.</summary>
    public int Count => _count;

    /// <summary>The page sizes entries may have, as log2, ascending.</summary>
    public ReadOnlySpan<int> PageShifts => _pageShifts;

    /// <summary>Lookups that found an entry.</summary>
    public long Hits { get; private set; }

    /// <summary>Lookups that found nothing.</summary>
    public long Misses { get; private set; }

    /// <summary>Entries inserted (a replaced entry counts again).</summary>
    public long Inserts { get; private set; }

    /// <summary>Invalidation commands executed (<see cref="InvalidateAll"/>, <see cref="InvalidateTag"/>, <see cref="InvalidateRange"/>).</summary>
    public long Invalidations { get; private set; }

    /// <summary>Entries removed by invalidation commands.</summary>
    public long EntriesInvalidated { get; private set; }

    /// <summary>Times an insert found the IOTLB full and dropped everything.</summary>
    public long CapacityFlushes { get; private set; }

    /// <summary>
    /// Looks up the translation of <paramref name="iova"/> under <paramref name="tag"/>, trying each page size that has
    /// entries, smallest first. Counts a hit or a miss. Allocates nothing.
    /// </summary>
    public bool TryLookup(ulong tag, Iova iova, out IotlbEntry entry)
    {
        if (TryLookup(tag, iova.Value, out Translation translation, out ulong vendorData))
        {
            entry = new IotlbEntry(tag, translation, vendorData);
            return true;
        }

        entry = default;
        return false;
    }

    // The translate paths' lookup: the leaf comes back as the translation's own fields (no IotlbEntry to build and
    // copy), so a hit costs the probe and four stores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryLookup(ulong tag, ulong va, out Translation translation, out ulong vendorData)
    {
        int[] shifts = _pageShifts;
        for (uint live = _liveShifts; live != 0; live &= live - 1)
        {
            int shift = shifts[BitOperations.TrailingZeroCount(live)];
            int slot = Find(tag, Key(va >> shift, shift));
            if (slot >= 0)
            {
                Hits++;
                ref readonly Slot found = ref _slots[slot];
                translation = found.ToTranslation();
                vendorData = found.VendorData;
                return true;
            }
        }

        Misses++;
        Unsafe.SkipInit(out translation);
        vendorData = 0;
        return false;
    }

    /// <summary>
    /// Caches <paramref name="entry"/>, replacing an entry with the same tag, page and size. When the IOTLB is full
    /// everything is dropped first.
    /// </summary>
    /// <exception cref="ArgumentException">The entry's page size is not one of <see cref="PageShifts"/>, or its input or output base is not aligned to it.</exception>
    public void Insert(in IotlbEntry entry) => Insert(entry.Tag, entry.Translation, entry.VendorData);

    // The translate paths' insert: the walk's translation goes straight into a slot.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Insert(ulong tag, in Translation translation, ulong vendorData)
    {
        int shift = translation.PageShift;
        ulong input = translation.InputBase.Value;
        ulong output = translation.OutputBase.Value;
        int s = ShiftIndex(shift);
        if (s < 0 || ((input | output) & ((1UL << shift) - 1)) != 0)
        {
            ThrowBadTranslation(translation);
        }

        ulong key = Key(input >> shift, shift);
        var fresh = new Slot(key, tag, output | (ulong)(translation.Permissions & DmaAccess.ReadWrite), vendorData);
        Inserts++;

        // One probe finds either the entry to replace or the free slot to fill: deletion shifts entries back, so
        // nothing with this key lies beyond the first free slot of its probe sequence.
        Slot[] slots = _slots;
        int i = Home(tag, key);
        while (true)
        {
            ref Slot slot = ref slots[i];
            if (slot.Key == 0)
            {
                break;
            }

            if (slot.Key == key && slot.Tag == tag)
            {
                slot = fresh;
                return;
            }

            i = (i + 1) & _mask;
        }

        if (_count >= Capacity)
        {
            i = FlushForInsert(tag, key);
        }

        slots[i] = fresh;
        _count++;
        _countPerShift[s]++;
        _liveShifts |= 1U << s;
    }

    // Out of line: the capacity flush is rare in a real-sized IOTLB and keeps the inlined insert small.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int FlushForInsert(ulong tag, ulong key)
    {
        Clear();
        CapacityFlushes++;
        return Home(tag, key);
    }

    [DoesNotReturn]
    private static void ThrowBadTranslation(in Translation translation) =>
        throw new ArgumentException($"Translation {translation} has a page size this IOTLB does not hold or a misaligned base.", "entry");

    /// <summary>Drops every entry (a global invalidation).</summary>
    /// <returns>The number of entries removed.</returns>
    public int InvalidateAll()
    {
        Invalidations++;
        int removed = _count;
        Clear();
        EntriesInvalidated += removed;
        return removed;
    }

    /// <summary>Drops every entry whose tag matches <paramref name="tag"/> in the bits of <paramref name="tagMask"/>.</summary>
    /// <returns>The number of entries removed.</returns>
    public int InvalidateTag(ulong tag, ulong tagMask = ulong.MaxValue)
    {
        Invalidations++;
        ulong want = tag & tagMask;
        int removed = 0;
        for (int i = 0; i < _slots.Length && _count > 0;)
        {
            ref Slot slot = ref _slots[i];
            if (slot.Key != 0 && (slot.Tag & tagMask) == want)
            {
                RemoveAt(i);
                removed++;
            }
            else
            {
                i++;
            }
        }

        EntriesInvalidated += removed;
        return removed;
    }

    /// <summary>
    /// Drops every entry whose tag matches <paramref name="tag"/> under <paramref name="tagMask"/> and whose page
    /// overlaps [<paramref name="iova"/>, <paramref name="iova"/> + <paramref name="size"/>): a page-selective
    /// invalidation. A large entry that overlaps the range only in part is dropped whole. Probes the covered pages one
    /// by one when that is cheaper than a sweep of the table (a small range under an exact tag), otherwise sweeps.
    /// </summary>
    /// <returns>The number of entries removed.</returns>
    public int InvalidateRange(ulong tag, ulong tagMask, Iova iova, ulong size)
    {
        Invalidations++;
        if (size == 0 || _count == 0)
        {
            return 0;
        }

        ulong first = iova.Value;
        ulong last = size - 1 > ulong.MaxValue - first ? ulong.MaxValue : first + (size - 1);
        int removed = tagMask == ulong.MaxValue && ProbeCost(first, last) <= (ulong)_slots.Length / 4
            ? InvalidateRangeByProbing(tag, first, last)
            : InvalidateRangeBySweep(tag, tagMask, first, last);
        EntriesInvalidated += removed;
        return removed;
    }

    /// <summary>The cached entries, in no particular order (for dumps and tests; allocates).</summary>
    public IotlbEntry[] Snapshot()
    {
        var entries = new IotlbEntry[_count];
        int n = 0;
        foreach (Slot slot in _slots)
        {
            if (slot.Key != 0)
            {
                entries[n++] = slot.ToEntry();
            }
        }

        return entries;
    }

    /// <summary>Zeroes the hit, miss, insert and invalidation counters.</summary>
    public void ResetCounters()
    {
        Hits = 0;
        Misses = 0;
        Inserts = 0;
        Invalidations = 0;
        EntriesInvalidated = 0;
        CapacityFlushes = 0;
    }

    private ulong ProbeCost(ulong first, ulong last)
    {
        ulong cost = 0;
        for (int s = 0; s < _pageShifts.Length; s++)
        {
            if (_countPerShift[s] != 0)
            {
                cost += ((last >> _pageShifts[s]) - (first >> _pageShifts[s])) + 1;
            }
        }

        return cost;
    }

    private int InvalidateRangeByProbing(ulong tag, ulong first, ulong last)
    {
        int removed = 0;
        for (int s = 0; s < _pageShifts.Length; s++)
        {
            if (_countPerShift[s] == 0)
            {
                continue;
            }

            int shift = _pageShifts[s];
            for (ulong page = first >> shift; ; page++)
            {
                int slot = Find(tag, Key(page, shift));
                if (slot >= 0)
                {
                    RemoveAt(slot);
                    removed++;
                }

                if (page == last >> shift)
                {
                    break;
                }
            }
        }

        return removed;
    }

    private int InvalidateRangeBySweep(ulong tag, ulong tagMask, ulong first, ulong last)
    {
        ulong want = tag & tagMask;
        int removed = 0;
        for (int i = 0; i < _slots.Length && _count > 0;)
        {
            ref Slot slot = ref _slots[i];
            if (slot.Key != 0 && (slot.Tag & tagMask) == want)
            {
                int shift = slot.Shift;
                ulong page = slot.Page;
                if (page >= first >> shift && page <= last >> shift)
                {
                    RemoveAt(i);
                    removed++;
                    continue;
                }
            }

            i++;
        }

        return removed;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Clear()
    {
        Array.Clear(_slots);
        int[] counts = _countPerShift;
        for (uint live = _liveShifts; live != 0; live &= live - 1)
        {
            counts[BitOperations.TrailingZeroCount(live)] = 0;
        }

        _liveShifts = 0;
        _count = 0;
    }

    // The index of a page shift in _pageShifts, or -1 when the IOTLB does not hold that size.
    private int ShiftIndex(int shift) => (uint)shift < 64 ? _shiftIndex[shift] - 1 : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(ulong page, int shift) => UsedBit | (page << KeyShiftBits) | (uint)shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(ulong tag, ulong key) => (int)((((tag * HashMultiplier) ^ key) * HashMultiplier) >> _hashShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(ulong tag, ulong key)
    {
        Slot[] slots = _slots;
        int i = Home(tag, key);
        while (true)
        {
            ref Slot slot = ref slots[i];
            if (slot.Key == key && slot.Tag == tag)
            {
                return i;
            }

            if (slot.Key == 0)
            {
                return -1;
            }

            i = (i + 1) & _mask;
        }
    }

    // Backward-shift deletion: no tombstones, probe sequences stay exact.
    private void RemoveAt(int hole)
    {
        Slot[] slots = _slots;
        int shiftIndex = ShiftIndex(slots[hole].Shift);
        if (--_countPerShift[shiftIndex] == 0)
        {
            _liveShifts &= ~(1U << shiftIndex);
        }

        _count--;
        int j = hole;
        while (true)
        {
            slots[hole] = default;
            while (true)
            {
                j = (j + 1) & _mask;
                ref Slot candidate = ref slots[j];
                if (candidate.Key == 0)
                {
                    return;
                }

                int home = Home(candidate.Tag, candidate.Key);

                // The entry at j may move into the hole unless its home lies cyclically in (hole, j].
                bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
                if (!stays)
                {
                    break;
                }
            }

            slots[hole] = slots[j];
            hole = j;
        }
    }

    // 32 bytes: the key, the tag, the output page with the permissions in its (always zero) low bits, vendor data.
    private readonly struct Slot(ulong key, ulong tag, ulong output, ulong vendorData)
    {
        public readonly ulong Key = key;
        public readonly ulong Tag = tag;
        public readonly ulong Output = output;
        public readonly ulong VendorData = vendorData;

        public int Shift => (int)(Key & ((1UL << KeyShiftBits) - 1));

        public ulong Page => (Key & ~UsedBit) >> KeyShiftBits;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public IotlbEntry ToEntry() => new(Tag, ToTranslation(), VendorData);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Translation ToTranslation()
        {
            int shift = Shift;
            return new Translation(new Iova(Page << shift), new PhysAddr(Output & ~OutputFlagMask), shift, (DmaAccess)(Output & OutputFlagMask));
        }
    }
}
