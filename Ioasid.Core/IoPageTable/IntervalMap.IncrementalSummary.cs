namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Incremental upkeep of the augmentation after an insert or remove that did not split or rebalance a node: the
/// common case, and the hot path of the allocator (every auto-map inserts, every unmap removes).
/// </summary>
/// <remarks>
/// <para>
/// Recomputing a node's record scans all its slots. But a change touches one slot, so a node's largest hole can only
/// change through that slot's record or the two holes beside it: when each of them grew (or stayed), the new largest
/// hole is the old one or one of them, in O(1); only when one of them shrank <i>and</i> was the old largest hole is a
/// scan needed. Removing an interval only grows holes, so a remove is O(1) per level; inserting into the node's
/// largest hole needs one scan per level whose largest hole it was.
/// </para>
/// <para>
/// Propagation stops at the first level whose record is unchanged.
/// </para>
/// </remarks>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Updates the parent record of a non-root leaf after <c>[start, last]</c> was inserted at <paramref name="pos"/>
    /// without a split, then the ancestors.
    /// </summary>
    private void UpdateLeafRecordAfterInsert(int leaf, int pos, ulong start, ulong last)
    {
        int lb = leaf * Capacity;
        int c = _count[leaf]; // after the insert; at least MinFill + 1 >= 2 for a non-root leaf
        int p = _pathNode[1] * Capacity + _pathSlot[1];
        ulong oldMin = _lo[p];
        ulong oldMax = _hi[p];
        ulong oldGap = _gap[p];
        ulong gap;
        if (pos == 0)
        {
            // The split hole lay before the leaf (outside it); one new inner hole appears after the new entry.
            gap = Max(oldGap, _lo[lb + 1] - last - 1);
        }
        else if (pos == c - 1)
        {
            gap = Max(oldGap, start - _hi[lb + c - 2] - 1);
        }
        else
        {
            // The entry split an inner hole into two smaller ones: only if that hole was the largest can the largest shrink.
            ulong split = _lo[lb + pos + 1] - _hi[lb + pos - 1] - 1;
            gap = split == oldGap ? NodeScan.MaxHole(ref _lo[lb], ref _hi[lb], c) : oldGap;
        }

        StoreAndPropagate(p, _lo[lb], _hi[lb + c - 1], gap, oldMin, oldMax, oldGap);
    }

    /// <summary>
    /// Updates the parent record of a non-root leaf after the entry <c>[start, last]</c> at <paramref name="index"/>
    /// was removed without an underflow, then the ancestors.
    /// </summary>
    private void UpdateLeafRecordAfterRemove(int leaf, int index, ulong start, ulong last)
    {
        int lb = leaf * Capacity;
        int c = _count[leaf]; // after the remove; at least MinFill
        int p = _pathNode[1] * Capacity + _pathSlot[1];
        ulong oldMin = _lo[p];
        ulong oldMax = _hi[p];
        ulong oldGap = _gap[p];
        ulong gap;
        if (index == 0)
        {
            // The inner hole after the removed first entry now lies outside the leaf.
            ulong lost = _lo[lb] - last - 1;
            gap = lost == oldGap ? NodeScan.MaxHole(ref _lo[lb], ref _hi[lb], c) : oldGap;
        }
        else if (index == c)
        {
            ulong lost = start - _hi[lb + c - 1] - 1;
            gap = lost == oldGap ? NodeScan.MaxHole(ref _lo[lb], ref _hi[lb], c) : oldGap;
        }
        else
        {
            // Two inner holes and the removed entry merge into one larger hole.
            gap = Max(oldGap, _lo[lb + index] - _hi[lb + index - 1] - 1);
        }

        StoreAndPropagate(p, _lo[lb], _hi[lb + c - 1], gap, oldMin, oldMax, oldGap);
    }

    /// <summary>
    /// Writes a child's new record into slot <paramref name="p"/> (which sits at level 1 of the recorded path) and,
    /// while records keep changing, updates each ancestor from the one slot that changed below it.
    /// </summary>
    private void StoreAndPropagate(int p, ulong min, ulong max, ulong gap, ulong oldMin, ulong oldMax, ulong oldGap)
    {
        for (int level = 1; ; level++)
        {
            if (min == oldMin && max == oldMax && gap == oldGap)
            {
                return;
            }

            _lo[p] = min;
            _hi[p] = max;
            _gap[p] = gap;
            if (level == _height)
            {
                return;
            }

            // Node at this level changed in slot s: derive its new record from its previous one.
            int node = _pathNode[level];
            int s = _pathSlot[level];
            int b = node * Capacity;
            int c = _count[node];
            int pp = _pathNode[level + 1] * Capacity + _pathSlot[level + 1];
            ulong nodeOldMin = _lo[pp];
            ulong nodeOldMax = _hi[pp];
            ulong nodeOldGap = _gap[pp];

            bool rescan = false;
            ulong g = nodeOldGap;
            Track(oldGap, gap, nodeOldGap, ref g, ref rescan);
            if (s > 0)
            {
                ulong before = _hi[b + s - 1];
                Track(oldMin - before - 1, min - before - 1, nodeOldGap, ref g, ref rescan);
            }

            if (s < c - 1)
            {
                ulong after = _lo[b + s + 1];
                Track(after - oldMax - 1, after - max - 1, nodeOldGap, ref g, ref rescan);
            }

            if (rescan)
            {
                g = Max(NodeScan.MaxHole(ref _lo[b], ref _hi[b], c), NodeScan.Max(ref _gap[b], c));
            }

            p = pp;
            oldMin = nodeOldMin;
            oldMax = nodeOldMax;
            oldGap = nodeOldGap;
            min = _lo[b];
            max = _hi[b + c - 1];
            gap = g;
        }
    }

    /// <summary>
    /// Folds one changed hole size into a node's largest hole: growth is taken directly; a shrink forces a rescan
    /// only when the old size was the node's largest.
    /// </summary>
    private static void Track(ulong before, ulong after, ulong nodeMax, ref ulong max, ref bool rescan)
    {
        if (after >= before)
        {
            max = after > max ? after : max;
        }
        else if (before == nodeMax)
        {
            rescan = true;
        }
    }

    private static ulong Max(ulong a, ulong b) => a > b ? a : b;
}
