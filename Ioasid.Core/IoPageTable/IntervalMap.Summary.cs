using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// The augmentation: what an inner slot records about its child subtree (smallest start, largest last, largest
/// inner hole), and how a node's record is recomputed from its own slots after a change.
/// </summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Recomputes the record of <paramref name="child"/> and stores it in slot <paramref name="slot"/> of
    /// <paramref name="parent"/>.
    /// </summary>
    /// <returns>
    /// True when the stored record changed. When it did not, no ancestor's record can change either, so callers stop
    /// propagating: most inserts and removes touch only the leaf and its parent slot.
    /// </returns>
    private bool RefreshSlot(int parent, int slot, int child, bool childIsLeaf)
    {
        Summarize(child, childIsLeaf, out ulong min, out ulong max, out ulong gap);
        int s = parent * Capacity + slot;
        if (_lo[s] == min && _hi[s] == max && _gap[s] == gap && _child[s] == child)
        {
            return false;
        }

        _lo[s] = min;
        _hi[s] = max;
        _gap[s] = gap;
        _child[s] = child;
        return true;
    }

    /// <summary>
    /// Record of a non-empty node: its smallest start, its largest last and the size of its largest hole strictly
    /// between two of its intervals (holes between child subtrees included).
    /// </summary>
    private void Summarize(int node, bool leaf, out ulong min, out ulong max, out ulong gap)
    {
        int b = node * Capacity;
        int c = _count[node];
        ref ulong lo = ref MemoryMarshal.GetArrayDataReference(_lo);
        ref ulong hi = ref MemoryMarshal.GetArrayDataReference(_hi);
        min = Unsafe.Add(ref lo, b);
        max = Unsafe.Add(ref hi, b + c - 1);

        // Hole between neighbours j and j+1 holds lo[j+1] - hi[j] - 1 addresses; neighbours never overlap and
        // hi[j] < lo[j+1], so this neither underflows nor overflows (adjacent intervals give 0).
        ulong g = NodeScan.MaxHole(ref Unsafe.Add(ref lo, b), ref Unsafe.Add(ref hi, b), c);
        if (!leaf)
        {
            ulong inner = NodeScan.Max(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_gap), b), c);
            g = inner > g ? inner : g;
        }

        gap = g;
    }
}
