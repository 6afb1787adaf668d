using System;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Structural invariant checker, for tests: a wrong augmentation record or an unbalanced tree silently breaks the
/// hole search and lookups long before any single operation looks wrong, so tests run this after random sequences.
/// </summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Checks every invariant of the tree and throws <see cref="InvalidOperationException"/> naming the first one
    /// violated. O(n).
    /// </summary>
    /// <remarks>
    /// Checked: all leaves at the same depth; fill bounds (root aside); intervals well-formed, sorted and disjoint
    /// across the whole tree; every inner slot's record (smallest start, largest last, largest inner hole) equals a
    /// recomputation from its subtree; the leaf chain visits the leaves in order; the entry count matches; free-list
    /// nodes are not reachable from the root.
    /// </remarks>
    internal void Validate()
    {
        var reachable = new bool[_nodesUsed];
        int leaves = 0;
        int entries = 0;
        int firstLeaf = NoNode;
        int previousLeaf = NoNode;
        bool haveLast = false;
        ulong lastSeen = 0;

        if (_height == 0 && _count[_root] == 0 && _total != 0)
        {
            Fail("empty root leaf but Count is " + _total);
        }

        ValidateNode(_root, _height, isRoot: true, out _, out _, out _);

        if (entries != _total)
        {
            Fail($"Count is {_total} but the tree holds {entries} intervals");
        }

        // The leaf chain must list exactly the reachable leaves, left to right.
        int chained = 0;
        int prev = NoNode;
        for (int n = firstLeaf; n != NoNode; n = _next[n])
        {
            if (_prev[n] != prev)
            {
                Fail($"leaf {n} has prev {_prev[n]}, expected {prev}");
            }

            prev = n;
            chained++;
            if (chained > leaves)
            {
                Fail("leaf chain longer than the number of leaves");
            }
        }

        if (chained != leaves)
        {
            Fail($"leaf chain has {chained} leaves, tree has {leaves}");
        }

        for (int n = _freeHead, guard = 0; n != NoNode; n = _next[n], guard++)
        {
            if (reachable[n])
            {
                Fail($"free node {n} is reachable from the root");
            }

            if (guard > _nodesUsed)
            {
                Fail("free list has a cycle");
            }
        }

        void ValidateNode(int node, int level, bool isRoot, out ulong min, out ulong max, out ulong gap)
        {
            if (node < 0 || node >= _nodesUsed)
            {
                Fail($"node index {node} out of the pool");
            }

            if (reachable[node])
            {
                Fail($"node {node} reached twice");
            }

            reachable[node] = true;
            int c = _count[node];
            int b = node * Capacity;
            if (c > Capacity)
            {
                Fail($"node {node} holds {c} slots");
            }

            if (!isRoot && c < MinFill)
            {
                Fail($"node {node} at level {level} holds {c} < {MinFill} slots");
            }

            if (isRoot && level > 0 && c < 2)
            {
                Fail($"inner root holds {c} children");
            }

            if (level == 0)
            {
                leaves++;
                if (firstLeaf == NoNode)
                {
                    firstLeaf = node;
                }

                if (_prev[node] != previousLeaf)
                {
                    Fail($"leaf {node} chained after {_prev[node]} but follows {previousLeaf} in order");
                }

                if (previousLeaf != NoNode && _next[previousLeaf] != node)
                {
                    Fail($"leaf {previousLeaf} chains to {_next[previousLeaf]}, expected {node}");
                }

                previousLeaf = node;
                for (int j = b; j < b + c; j++)
                {
                    if (_hi[j] < _lo[j])
                    {
                        Fail($"interval [{_lo[j]:x}, {_hi[j]:x}] has last below start");
                    }

                    if (haveLast && _lo[j] <= lastSeen)
                    {
                        Fail($"interval at {_lo[j]:x} overlaps or is out of order after one ending at {lastSeen:x}");
                    }

                    haveLast = true;
                    lastSeen = _hi[j];
                    entries++;
                }

                if (c == 0)
                {
                    min = max = gap = 0;
                    return;
                }

                Summarize(node, leaf: true, out min, out max, out gap);
                return;
            }

            for (int i = 0; i < c; i++)
            {
                int s = b + i;
                ValidateNode(_child[s], level - 1, isRoot: false, out ulong cmin, out ulong cmax, out ulong cgap);
                if (_lo[s] != cmin || _hi[s] != cmax || _gap[s] != cgap)
                {
                    Fail($"slot {i} of node {node}: record ({_lo[s]:x}, {_hi[s]:x}, gap {_gap[s]:x}) but subtree has ({cmin:x}, {cmax:x}, gap {cgap:x})");
                }
            }

            Summarize(node, leaf: false, out min, out max, out gap);
        }
    }

    /// <summary>Height of the tree above the leaves, for tests.</summary>
    internal int Height => _height;

    /// <summary>Nodes currently taken from the pool (in the tree or on the free list), for tests.</summary>
    internal int PoolNodesUsed => _nodesUsed;

    private static void Fail(string message) =>
        throw new InvalidOperationException("IntervalMap invariant violated: " + message);
}
