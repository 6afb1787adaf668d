namespace Ioasid.Core.IoPageTable;

/// <summary>Removal: leaf delete, refill or merge of underfull nodes, root collapse and augmentation upkeep.</summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>Removes the interval that starts exactly at <paramref name="start"/>. O(log n).</summary>
    /// <returns>False when no interval starts there.</returns>
    public bool Remove(ulong start) => Remove(start, out _);

    /// <summary>Removes the interval that starts exactly at <paramref name="start"/>. O(log n); no GC allocation.</summary>
    /// <param name="start">Start address of the interval to remove.</param>
    /// <param name="removed">The removed interval, with its payload.</param>
    /// <returns>False when no interval starts there.</returns>
    public bool Remove(ulong start, out Interval<TValue> removed)
    {
        if (!TryFinger(start, out int leaf))
        {
            leaf = DescendForRemove(start);
            if (leaf == NoNode)
            {
                removed = default;
                return false;
            }
        }

        int lb = leaf * Capacity;
        int c = _count[leaf];
        int i = NodeScan.CountLessOrEqual(ref _lo[lb], c, start) - 1;
        if (i < 0 || _lo[lb + i] != start)
        {
            removed = default;
            return false;
        }

        removed = new Interval<TValue>(_lo[lb + i], _hi[lb + i], _value[lb + i]);
        CloseLeafSlot(leaf, i, c);
        ClearValues(leaf, c - 1, 1);
        _count[leaf] = c - 1;
        _total--;
        _version++;
        if (_height > 0 && c - 1 >= MinFill)
        {
            // No rebalancing: only this leaf's record can change, and by a known amount.
            UpdateLeafRecordAfterRemove(leaf, i, removed.Start, removed.Last);
        }
        else
        {
            PropagateRemove(leaf);
        }

        return true;
    }

    /// <summary>
    /// Walks from the root to the leaf that would hold <paramref name="start"/>, recording the path, and makes that
    /// leaf the finger; <see cref="NoNode"/> when the key lies below every interval.
    /// </summary>
    private int DescendForRemove(ulong start)
    {
        int node = _root;
        for (int level = _height; level > 0; level--)
        {
            int b = node * Capacity;
            PrefetchRun(ref _child[b]);
            int s = NodeScan.CountLessOrEqual(ref _lo[b], _count[node], start) - 1;
            if (s < 0)
            {
                _finger = NoNode; // the path was only partly rewritten
                return NoNode;
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

    /// <summary>
    /// Walks the recorded path upwards after a leaf delete: an underfull node borrows from or merges with a sibling;
    /// otherwise only the slot record is refreshed, stopping as soon as a record is unchanged. Finally an inner root
    /// left with a single child is replaced by that child.
    /// </summary>
    private void PropagateRemove(int child)
    {
        bool childIsLeaf = true;
        for (int level = 1; level <= _height; level++)
        {
            int parent = _pathNode[level];
            int slot = _pathSlot[level];
            bool changed;
            if (_count[child] < MinFill)
            {
                Rebalance(parent, slot, childIsLeaf);
                changed = true;
            }
            else
            {
                changed = RefreshSlot(parent, slot, child, childIsLeaf);
            }

            if (!changed)
            {
                break;
            }

            child = parent;
            childIsLeaf = false;
        }

        while (_height > 0 && _count[_root] == 1)
        {
            int old = _root;
            _root = _child[old * Capacity];
            FreeNode(old);
            _height--;
        }
    }

    /// <summary>
    /// Fixes the underfull child in <paramref name="slot"/> of <paramref name="parent"/> using its left neighbour (or
    /// its right one when it is the first child): merges the pair when both fit in one node, else evens them out.
    /// </summary>
    private void Rebalance(int parent, int slot, bool leaf)
    {
        _finger = NoNode; // defensive: a refill never moves the finger leaf within its parent, and inner refills only follow a merge below (which already cleared it)
        int pb = parent * Capacity;

        // Non-root inner nodes hold at least MinFill >= 2 children and an inner root at least 2, so a neighbour exists.
        int leftSlot = slot > 0 ? slot - 1 : slot;
        int left = _child[pb + leftSlot];
        int right = _child[pb + leftSlot + 1];
        int lc = _count[left];
        int rc = _count[right];

        if (lc + rc <= Capacity)
        {
            MoveSlots(right, 0, left, lc, rc, leaf);
            _count[left] = lc + rc;
            if (leaf)
            {
                int nx = _next[right];
                _next[left] = nx;
                if (nx != NoNode)
                {
                    _prev[nx] = left;
                }
            }

            FreeNode(right);
            int pc = _count[parent];
            MoveSlots(parent, leftSlot + 2, parent, leftSlot + 1, pc - leftSlot - 2, leaf: false);
            _count[parent] = pc - 1;
            RefreshSlot(parent, leftSlot, left, leaf);
            return;
        }

        // Too many for one node: share the pair's slots evenly. The pair holds more than Capacity slots, so each
        // side ends with more than Capacity / 2, far from underflowing again on the next remove.
        int total = lc + rc;
        int wantLeft = total / 2;
        if (lc < wantLeft)
        {
            int move = wantLeft - lc;
            MoveSlots(right, 0, left, lc, move, leaf);
            MoveSlots(right, move, right, 0, rc - move, leaf);
            if (leaf)
            {
                ClearValues(right, rc - move, move);
            }
        }
        else
        {
            int move = lc - wantLeft;
            MoveSlots(right, 0, right, move, rc, leaf);
            MoveSlots(left, wantLeft, right, 0, move, leaf);
            if (leaf)
            {
                ClearValues(left, wantLeft, move);
            }
        }

        _count[left] = wantLeft;
        _count[right] = total - wantLeft;
        RefreshSlot(parent, leftSlot, left, leaf);
        RefreshSlot(parent, leftSlot + 1, right, leaf);
    }
}
