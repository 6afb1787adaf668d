using System;

namespace Ioasid.Core.IoPageTable;

/// <summary>Insertion: overlap check against the two neighbours, leaf insert, splits and augmentation upkeep.</summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Inserts <c>[start, last]</c> unless it overlaps an existing interval. O(log n); no GC allocation once the
    /// node pool has grown to the working size.
    /// </summary>
    /// <param name="start">First address.</param>
    /// <param name="last">Last address (inclusive); must be at least <paramref name="start"/>.</param>
    /// <param name="value">Payload.</param>
    /// <param name="conflict">On failure, the lowest existing interval that overlaps <c>[start, last]</c>.</param>
    /// <returns>True when inserted; false when it overlaps <paramref name="conflict"/>.</returns>
    public bool TryInsert(ulong start, ulong last, TValue value, out Interval<TValue> conflict)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), "An interval's last address must not be below its start.");
        }

        if (!TryFinger(start, out int leaf))
        {
            leaf = DescendForInsert(start);
        }

        int lb = leaf * Capacity;
        int c = _count[leaf];
        int pos = NodeScan.CountLessOrEqual(ref _lo[lb], c, start);

        // Only the predecessor and the successor can overlap: intervals are disjoint and sorted, so anything before
        // the predecessor ends before it, and anything after the successor starts after it.
        // The descent keeps the predecessor in this leaf whenever one exists (pos == 0 only in the leftmost leaf).
        if (pos > 0 && _hi[lb + pos - 1] >= start)
        {
            conflict = new Interval<TValue>(_lo[lb + pos - 1], _hi[lb + pos - 1], _value[lb + pos - 1]);
            return false;
        }

        if (pos < c)
        {
            if (_lo[lb + pos] <= last)
            {
                conflict = new Interval<TValue>(_lo[lb + pos], _hi[lb + pos], _value[lb + pos]);
                return false;
            }
        }
        else if (_next[leaf] != NoNode)
        {
            int ns = _next[leaf] * Capacity;
            if (_lo[ns] <= last)
            {
                conflict = new Interval<TValue>(_lo[ns], _hi[ns], _value[ns]);
                return false;
            }
        }

        conflict = default;
        int sibling = InsertIntoLeaf(leaf, pos, start, last, value);
        _total++;
        _version++;
        if (sibling == NoNode && _height > 0)
        {
            // No split: only this leaf's record can change, and by a known amount (see UpdateLeafRecordAfterInsert).
            UpdateLeafRecordAfterInsert(leaf, pos, start, last);
        }
        else
        {
            PropagateInsert(leaf, sibling);
        }

        return true;
    }

    /// <summary>
    /// Walks from the root to the leaf that holds the greatest start at or below <paramref name="start"/> (the leftmost
    /// leaf when there is none), recording the path, and makes that leaf the finger.
    /// </summary>
    private int DescendForInsert(ulong start)
    {
        int node = _root;
        for (int level = _height; level > 0; level--)
        {
            int b = node * Capacity;
            PrefetchRun(ref _child[b]);

            // The subtree holding the greatest start <= `start` (or the leftmost one when there is none): the new
            // interval goes right after that predecessor.
            int s = NodeScan.CountLessOrEqual(ref _lo[b], _count[node], start) - 1;
            if (s < 0)
            {
                s = 0;
            }

            _pathNode[level] = node;
            _pathSlot[level] = s;
            node = _child[b + s];
        }


        if (_height > 0)
        {
            _finger = node;
        }

        return node;
    }

    /// <summary>Puts an entry at <paramref name="pos"/> of a leaf, splitting the leaf first when it is full.</summary>
    /// <returns>The new right sibling when the leaf split, else <see cref="NoNode"/>.</returns>
    private int InsertIntoLeaf(int leaf, int pos, ulong start, ulong last, TValue value)
    {
        int sibling = NoNode;
        int target = leaf;
        if (_count[leaf] == Capacity)
        {
            sibling = SplitNode(leaf, leaf: true);
            int kept = _count[leaf];
            if (pos > kept)
            {
                target = sibling;
                pos -= kept;
            }
        }

        int c = _count[target];
        OpenLeafSlot(target, pos, c);
        int s = target * Capacity + pos;
        _lo[s] = start;
        _hi[s] = last;
        _value[s] = value;
        _count[target] = c + 1;
        return sibling;
    }

    /// <summary>
    /// Moves the upper half of a full node into a new right sibling. Leaves are also linked into the leaf chain.
    /// </summary>
    private int SplitNode(int node, bool leaf)
    {
        int sibling = AllocateNode();
        const int Keep = Capacity / 2;
        MoveSlots(node, Keep, sibling, 0, Capacity - Keep, leaf);
        if (leaf)
        {
            ClearValues(node, Keep, Capacity - Keep);
            int nx = _next[node];
            _next[sibling] = nx;
            _prev[sibling] = node;
            if (nx != NoNode)
            {
                _prev[nx] = sibling;
            }

            _next[node] = sibling;
        }

        _count[node] = Keep;
        _count[sibling] = Capacity - Keep;
        return sibling;
    }

    /// <summary>
    /// Walks the recorded path upwards after a leaf insert: refreshes each ancestor slot, links in the sibling of any
    /// split (which may split the parent in turn) and grows a new root when the old root split.
    /// </summary>
    private void PropagateInsert(int child, int sibling)
    {
        bool childIsLeaf = true;
        for (int level = 1; level <= _height; level++)
        {
            int parent = _pathNode[level];
            int slot = _pathSlot[level];
            bool changed = RefreshSlot(parent, slot, child, childIsLeaf);
            int parentSibling = NoNode;
            if (sibling != NoNode)
            {
                parentSibling = InsertChildSlot(parent, slot + 1, sibling, childIsLeaf);
                changed = true;
            }

            if (!changed)
            {
                return;
            }

            child = parent;
            sibling = parentSibling;
            childIsLeaf = false;
        }

        if (sibling != NoNode)
        {
            int root = AllocateNode();
            _count[root] = 2;
            RefreshSlot(root, 0, child, childIsLeaf);
            RefreshSlot(root, 1, sibling, childIsLeaf);
            _root = root;
            _height++;
        }
    }

    /// <summary>Inserts a slot for <paramref name="child"/> at <paramref name="pos"/> of an inner node, splitting it when full.</summary>
    /// <returns>The new right sibling of <paramref name="node"/> when it split, else <see cref="NoNode"/>.</returns>
    private int InsertChildSlot(int node, int pos, int child, bool childIsLeaf)
    {
        int sibling = NoNode;
        int target = node;
        if (_count[node] == Capacity)
        {
            sibling = SplitNode(node, leaf: false);
            int kept = _count[node];
            if (pos > kept)
            {
                target = sibling;
                pos -= kept;
            }
        }

        int c = _count[target];
        MoveSlots(target, pos, target, pos + 1, c - pos, leaf: false);
        _count[target] = c + 1;
        _child[target * Capacity + pos] = NoNode; // force RefreshSlot to write the record
        RefreshSlot(target, pos, child, childIsLeaf);
        return sibling;
    }
}
