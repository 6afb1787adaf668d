using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// An ordered map of non-overlapping inclusive intervals <c>[start, last]</c> over the full <see cref="ulong"/> range,
/// each carrying a <typeparamref name="TValue"/>. It backs the IOAS's <c>area_itree</c> (up to millions of areas)
/// and <c>allowed_itree</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Shape.</b> A B+-tree whose nodes live in flat arrays (a node pool with a free list) instead of one heap object
/// per node: node <c>n</c> owns the slots <c>[n * Capacity, (n + 1) * Capacity)</c> of every slot array. Leaves keep
/// the intervals sorted by start; because intervals never overlap, they are then sorted by last too, so one key run
/// answers both "which interval starts at or before x" and "does it reach x". Wide nodes mean a lookup at a million
/// intervals touches four or five nodes, each a few contiguous cache lines, rather than the ~20 scattered nodes of a
/// red-black tree. Steady-state inserts and removes reuse pooled nodes: no GC allocation.
/// </para>
/// <para>
/// <b>Augmentation.</b> Each inner slot also records, for its child subtree, the smallest start, the largest last and
/// the largest hole strictly between two of the subtree's intervals. The holes between sibling subtrees follow from
/// neighbouring slots. With these, <see cref="TryFindFirstHole{TFit}"/> finds the lowest hole that fits a request by
/// skipping every subtree whose largest hole is too small: O(log n) instead of walking the areas, which is what made
/// Linux 6.1's allocator linear.
/// </para>
/// <para>
/// <b>Cost on this model's machine.</b> In a million-interval map the leaves (tens of MB) live in DRAM, so a random
/// lookup or update is bounded by memory round trips, not instructions: lookups prefetch the lines they will need
/// next (child indexes, a leaf's lasts and payloads) so they overlap with the key compare.
/// </para>
/// <para>
/// <b>Concurrency.</b> Not thread-safe. Readers (lookups, enumeration, hole search) may run concurrently with each
/// other but not with a writer; the owner serialises writers, as the kernel's <c>iova_rwsem</c> does.
/// </para>
/// </remarks>
/// <typeparam name="TValue">Payload stored with each interval (an area object, a handle, or <see cref="NoValue"/>).</typeparam>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>Slots per node: intervals per leaf and children per inner node.</summary>
    /// <remarks>
    /// 32 keys of 8 bytes are four cache lines, compared in four AVX-512 instructions (see <see cref="NodeScan"/>), and
    /// a tree of a million intervals is four levels deep. Shifting up to 32 slots on insert/remove is a short loop.
    /// </remarks>
    internal const int Capacity = 32;

    /// <summary>Compile-time guard: the vector node scans read exactly one run of <see cref="NodeScan.MaxRun"/> slots.</summary>
    private const int CapacityMatchesNodeScan = 1 / (Capacity == NodeScan.MaxRun ? 1 : 0);

    /// <summary>A non-root node with fewer slots than this is refilled from, or merged with, a sibling.</summary>
    /// <remarks>
    /// Well below half of <see cref="Capacity"/>: a split leaves two halves of 16, so a remove right after an insert
    /// never merges them back. Alternating insert/remove at one spot therefore cannot thrash split/merge.
    /// </remarks>
    internal const int MinFill = Capacity / 4;

    /// <summary>Deepest tree the path buffers hold; with fan-out of at least 2 at the root and 8 below, 2^64 entries fit well within it.</summary>
    private const int MaxHeight = 32;

    private const int NoNode = -1;

    // ---- slot arrays (node n owns [n*Capacity, (n+1)*Capacity)) ----

    /// <summary>Leaf: interval start. Inner: smallest start in the child subtree (exact, not just a separator).</summary>
    private ulong[] _lo;

    /// <summary>Leaf: interval last. Inner: largest last in the child subtree.</summary>
    private ulong[] _hi;

    /// <summary>Inner only: size of the largest hole strictly between two intervals of the child subtree (0 if none).</summary>
    private ulong[] _gap;

    /// <summary>Inner only: child node index.</summary>
    private int[] _child;

    /// <summary>Leaf only: payloads.</summary>
    private TValue[] _value;

    // ---- per-node arrays ----

    /// <summary>Slots in use per node.</summary>
    private int[] _count;

    /// <summary>Leaf chain (ascending), for enumeration and successor lookups. Also links the free list.</summary>
    private int[] _next;

    /// <summary>Leaf chain (descending).</summary>
    private int[] _prev;

    private int _nodeCapacity;
    private int _nodesUsed;
    private int _freeHead = NoNode;

    private int _root;

    /// <summary>Number of inner levels above the leaves: 0 when the root is a leaf.</summary>
    private int _height;

    private int _total;

    /// <summary>Bumped by every mutation so enumerators can detect that the tree changed under them.</summary>
    private int _version;

    // Path of the last descent by a mutator, indexed by level (1 = parent of the leaf, _height = root).
    private readonly int[] _pathNode = new int[MaxHeight + 1];
    private readonly int[] _pathSlot = new int[MaxHeight + 1];

    /// <summary>
    /// The leaf of the last mutating descent, while the path recorded for it is still exact; <see cref="NoNode"/> once
    /// a split, merge, refill or root change may have moved slots. Lets an insert or remove next to the previous one
    /// (sequential maps, FIFO unmap/remap, first-fit allocation reusing the hole just freed) skip the descent.
    /// </summary>
    private int _finger = NoNode;

    /// <summary>Creates an empty map with room for about <paramref name="initialNodes"/> nodes before the pool grows.</summary>
    public IntervalMap(int initialNodes = 4)
    {
        if (initialNodes < 1)
        {
            initialNodes = 1;
        }

        // The ulong slot arrays keep NodeScan.Padding readable slots past the last node for the vector scans.
        _lo = new ulong[(initialNodes * Capacity) + NodeScan.Padding];
        _hi = new ulong[(initialNodes * Capacity) + NodeScan.Padding];
        _gap = new ulong[(initialNodes * Capacity) + NodeScan.Padding];
        _child = new int[initialNodes * Capacity];
        _value = new TValue[initialNodes * Capacity];
        _count = new int[initialNodes];
        _next = new int[initialNodes];
        _prev = new int[initialNodes];
        _nodeCapacity = initialNodes;
        _root = AllocateNode();
    }

    /// <summary>Number of intervals in the map. O(1).</summary>
    public int Count => _total;

    /// <summary>Removes every interval. Keeps the node pool for reuse.</summary>
    public void Clear()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TValue>())
        {
            Array.Clear(_value, 0, _nodesUsed * Capacity);
        }

        _nodesUsed = 0;
        _freeHead = NoNode;
        _finger = NoNode;
        _height = 0;
        _total = 0;
        _version++;
        _root = AllocateNode();
    }

    /// <summary>
    /// Finds the interval containing <paramref name="address"/>. O(log n).
    /// </summary>
    /// <returns>True and the interval when one contains the address.</returns>
    public bool TryFind(ulong address, out Interval<TValue> interval)
    {
        ref ulong lo0 = ref MemoryMarshal.GetArrayDataReference(_lo);
        ref ulong hi0 = ref MemoryMarshal.GetArrayDataReference(_hi);
        int node = _root;
        for (int level = _height; level > 0; level--)
        {
            int b = node * Capacity;
            PrefetchRun(ref _child[b]); // the child index is needed right after the key search: fetch it alongside
            int s = NodeScan.CountLessOrEqual(ref Unsafe.Add(ref lo0, b), _count[node], address) - 1;

            // Below every interval. (A probe in a hole between subtrees descends anyway and misses at the leaf:
            // checking the subtree's last here would cost one more cache line per level on every hit.)
            if (s < 0)
            {
                interval = default;
                return false;
            }

            node = _child[b + s];
        }

        int lb = node * Capacity;

        // In a large map the leaf is usually not cached. Its `last` and payload slots are needed only once the key
        // search has picked one, which would be a second memory round trip in sequence; fetching their lines now,
        // in parallel with the keys, leaves one.
        PrefetchRun(ref Unsafe.Add(ref hi0, lb));
        PrefetchRun(ref _value[lb]);
        int i = NodeScan.CountLessOrEqual(ref Unsafe.Add(ref lo0, lb), _count[node], address) - 1;
        if (i < 0 || Unsafe.Add(ref hi0, lb + i) < address)
        {
            interval = default;
            return false;
        }

        interval = new Interval<TValue>(Unsafe.Add(ref lo0, lb + i), Unsafe.Add(ref hi0, lb + i), _value[lb + i]);
        return true;
    }

    /// <summary>True when some interval contains <paramref name="address"/>. O(log n).</summary>
    public bool Contains(ulong address) => TryFind(address, out _);

    /// <summary>
    /// Finds the lowest interval that shares at least one address with <c>[first, last]</c>. O(log n).
    /// </summary>
    public bool TryFindFirstIntersecting(ulong first, ulong last, out Interval<TValue> interval)
    {
        if (first <= last && LocateFirstIntersecting(first, last, out int node, out int index))
        {
            int s = node * Capacity + index;
            interval = new Interval<TValue>(_lo[s], _hi[s], _value[s]);
            return true;
        }

        interval = default;
        return false;
    }

    /// <summary>True when some interval shares at least one address with <c>[first, last]</c>. O(log n).</summary>
    public bool Intersects(ulong first, ulong last) => first <= last && LocateFirstIntersecting(first, last, out _, out _);

    /// <summary>
    /// Replaces the payload of the interval that starts exactly at <paramref name="start"/>. O(log n).
    /// </summary>
    /// <returns>False when no interval starts there.</returns>
    public bool TrySetValue(ulong start, TValue value)
    {
        if (!LocateStart(start, out int node, out int index))
        {
            return false;
        }

        _value[node * Capacity + index] = value;
        return true;
    }

    /// <summary>
    /// Enumerates, in ascending order, the intervals that share at least one address with <c>[first, last]</c>.
    /// Finding the first is O(log n); each further step is O(1). Allocation-free.
    /// </summary>
    /// <remarks>The enumerator throws if the map is modified while it is in use.</remarks>
    public IntersectEnumerator EnumerateIntersecting(ulong first, ulong last)
    {
        if (first <= last && LocateFirstIntersecting(first, last, out int node, out int index))
        {
            return new IntersectEnumerator(this, node, index, last);
        }

        return new IntersectEnumerator(this, NoNode, 0, last);
    }

    /// <summary>Enumerates every interval in ascending order. Allocation-free.</summary>
    public IntersectEnumerator GetEnumerator() => EnumerateIntersecting(0, ulong.MaxValue);

    /// <summary>
    /// Positions on the lowest interval intersecting <c>[first, last]</c> (requires <c>first &lt;= last</c>).
    /// </summary>
    private bool LocateFirstIntersecting(ulong first, ulong last, out int node, out int index)
    {
        int n = _root;
        for (int level = _height; level > 0; level--)
        {
            int b = n * Capacity;
            int s = NodeScan.CountLessOrEqual(ref _lo[b], _count[n], first) - 1;

            // The subtree whose range reaches `first` holds the answer; if the chosen subtree ends before `first`,
            // the answer is the first interval of the next subtree, found by descending there on the left edge.
            if (s < 0)
            {
                s = 0;
            }
            else if (_hi[b + s] < first)
            {
                s++;
                if (s == _count[n])
                {
                    // Everything in this subtree ends before `first`. The successor, if any, is the first interval
                    // of the next leaf after this subtree's last leaf: reach it through the leaf chain.
                    int leaf = RightmostLeaf(_child[b + s - 1], level - 1);
                    return FirstOfNextLeaf(leaf, last, out node, out index);
                }
            }

            n = _child[b + s];
        }

        int lb = n * Capacity;
        int c = _count[n];
        int i = NodeScan.CountLessOrEqual(ref _lo[lb], c, first) - 1;
        if (i < 0 || _hi[lb + i] < first)
        {
            i++;
        }

        if (i == c)
        {
            return FirstOfNextLeaf(n, last, out node, out index);
        }

        if (_lo[lb + i] > last)
        {
            node = NoNode;
            index = 0;
            return false;
        }

        node = n;
        index = i;
        return true;
    }

    private bool FirstOfNextLeaf(int leaf, ulong last, out int node, out int index)
    {
        int nx = _next[leaf];
        index = 0;
        if (nx == NoNode || _lo[nx * Capacity] > last)
        {
            node = NoNode;
            return false;
        }

        node = nx;
        return true;
    }

    private int RightmostLeaf(int n, int level)
    {
        for (; level > 0; level--)
        {
            n = _child[n * Capacity + _count[n] - 1];
        }

        return n;
    }

    /// <summary>Positions on the interval starting exactly at <paramref name="start"/>.</summary>
    private bool LocateStart(ulong start, out int node, out int index)
    {
        int n = _root;
        for (int level = _height; level > 0; level--)
        {
            int b = n * Capacity;
            int s = NodeScan.CountLessOrEqual(ref _lo[b], _count[n], start) - 1;
            if (s < 0)
            {
                node = NoNode;
                index = 0;
                return false;
            }

            n = _child[b + s];
        }

        int lb = n * Capacity;
        int i = NodeScan.CountLessOrEqual(ref _lo[lb], _count[n], start) - 1;
        if (i < 0 || _lo[lb + i] != start)
        {
            node = NoNode;
            index = 0;
            return false;
        }

        node = n;
        index = i;
        return true;
    }

    /// <summary>
    /// Returns the leaf a full descent for <paramref name="key"/> would reach (the one holding the greatest start at or
    /// below the key) when it is the finger leaf or one of its two neighbours under the same parent, adjusting the
    /// recorded path by one slot in the latter case.
    /// </summary>
    /// <remarks>
    /// The neighbours matter: a FIFO that frees the first area of a leaf and maps the same IOVA again inserts at the
    /// end of the previous leaf (the predecessor's), then frees the next leaf's new first area, and so on, crossing
    /// the leaf boundary on every operation.
    /// </remarks>
    private bool TryFinger(ulong key, out int leaf)
    {
        leaf = _finger;
        if (leaf == NoNode)
        {
            return false;
        }

        int parent = _pathNode[1];
        int slot = _pathSlot[1];
        if (_lo[leaf * Capacity] > key)
        {
            // Left neighbour: the previous slot of the same parent, if its first start is at or below the key.
            if (slot == 0)
            {
                return false;
            }

            int left = _child[parent * Capacity + slot - 1];
            if (_lo[left * Capacity] > key)
            {
                return false;
            }

            _pathSlot[1] = slot - 1;
            _finger = leaf = left;
            return true;
        }

        int next = _next[leaf];
        if (next == NoNode || _lo[next * Capacity] > key)
        {
            return true;
        }

        // Right neighbour: the next slot of the same parent (the leaf chain follows slot order), if the key stops there.
        if (slot + 1 >= _count[parent])
        {
            return false;
        }

        int after = _next[next];
        if (after != NoNode && _lo[after * Capacity] <= key)
        {
            return false;
        }

        _pathSlot[1] = slot + 1;
        _finger = leaf = next;
        return true;
    }

    /// <summary>Hints the CPU to fetch the cache lines of one node's run of slots (no-op without SSE).</summary>
    /// <remarks>
    /// A prefetch never faults and a stale address (the array moved in a GC since) only wastes the hint, so taking
    /// the address of an unpinned array element is fine here.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRun<T>(ref T first)
    {
        if (Sse.IsSupported)
        {
            byte* p = (byte*)Unsafe.AsPointer(ref first);
            int bytes = Capacity * Unsafe.SizeOf<T>();
            for (int offset = 0; offset < bytes; offset += 64)
            {
                Sse.Prefetch0(p + offset);
            }
        }
    }

    /// <summary>Takes a node from the free list, or from the end of the pool (growing it by doubling when full).</summary>
    private int AllocateNode()
    {
        _finger = NoNode; // a new node means a split or a new root: recorded slot positions may be stale
        int n;
        if (_freeHead != NoNode)
        {
            n = _freeHead;
            _freeHead = _next[n];
        }
        else
        {
            if (_nodesUsed == _nodeCapacity)
            {
                GrowPool();
            }

            n = _nodesUsed++;
        }

        _count[n] = 0;
        _next[n] = NoNode;
        _prev[n] = NoNode;
        return n;
    }

    /// <summary>Returns a node to the free list, dropping payload references so the GC can collect them.</summary>
    private void FreeNode(int n)
    {
        _finger = NoNode; // a merge or root collapse: recorded slot positions may be stale
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TValue>())
        {
            Array.Clear(_value, n * Capacity, Capacity);
        }

        _count[n] = 0;
        _next[n] = _freeHead;
        _prev[n] = NoNode;
        _freeHead = n;
    }

    private void GrowPool()
    {
        int nodes = checked(_nodeCapacity * 2);
        int slots = checked(nodes * Capacity);
        Array.Resize(ref _lo, slots + NodeScan.Padding);
        Array.Resize(ref _hi, slots + NodeScan.Padding);
        Array.Resize(ref _gap, slots + NodeScan.Padding);
        Array.Resize(ref _child, slots);
        Array.Resize(ref _value, slots);
        Array.Resize(ref _count, nodes);
        Array.Resize(ref _next, nodes);
        Array.Resize(ref _prev, nodes);
        _nodeCapacity = nodes;
    }

    /// <summary>Moves <paramref name="count"/> slots between (or within) nodes; overlapping moves are safe.</summary>
    private void MoveSlots(int srcNode, int srcIndex, int dstNode, int dstIndex, int count, bool leaf)
    {
        if (count <= 0)
        {
            return;
        }

        // Span copies are memmoves (overlap-safe) without Array.Copy's per-call type checks, which dominate for the
        // few dozen slots moved here.
        int src = srcNode * Capacity + srcIndex;
        int dst = dstNode * Capacity + dstIndex;
        _lo.AsSpan(src, count).CopyTo(_lo.AsSpan(dst, count));
        _hi.AsSpan(src, count).CopyTo(_hi.AsSpan(dst, count));
        if (leaf)
        {
            _value.AsSpan(src, count).CopyTo(_value.AsSpan(dst, count));
        }
        else
        {
            _gap.AsSpan(src, count).CopyTo(_gap.AsSpan(dst, count));
            _child.AsSpan(src, count).CopyTo(_child.AsSpan(dst, count));
        }
    }

    /// <summary>
    /// Opens slot <paramref name="pos"/> of a leaf holding <paramref name="count"/> entries by moving the entries
    /// from <paramref name="pos"/> on up by one.
    /// </summary>
    /// <remarks>
    /// A plain loop: for the dozen or so slots an insert moves, three memmove calls (one per slot array) cost more in
    /// call and size dispatch than the copying itself.
    /// </remarks>
    private void OpenLeafSlot(int leaf, int pos, int count)
    {
        int b = leaf * Capacity;
        ulong[] lo = _lo;
        ulong[] hi = _hi;
        TValue[] values = _value;
        for (int j = b + count; j > b + pos; j--)
        {
            lo[j] = lo[j - 1];
            hi[j] = hi[j - 1];
            values[j] = values[j - 1];
        }
    }

    /// <summary>Closes slot <paramref name="pos"/> of a leaf holding <paramref name="count"/> entries (moves the rest down by one).</summary>
    private void CloseLeafSlot(int leaf, int pos, int count)
    {
        int b = leaf * Capacity;
        ulong[] lo = _lo;
        ulong[] hi = _hi;
        TValue[] values = _value;
        for (int j = b + pos; j < b + count - 1; j++)
        {
            lo[j] = lo[j + 1];
            hi[j] = hi[j + 1];
            values[j] = values[j + 1];
        }
    }

    /// <summary>Clears payload slots that no longer hold a live entry, so the GC does not keep their objects alive.</summary>
    private void ClearValues(int node, int index, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TValue>() && count > 0)
        {
            Array.Clear(_value, node * Capacity + index, count);
        }
    }
}
