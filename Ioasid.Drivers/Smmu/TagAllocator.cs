using System;
using System.Collections;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// Hands out the lowest free id in [<see cref="First"/>, <see cref="Last"/>] (the kernel's ida/xarray allocation).
/// Base of <see cref="AsidAllocator"/> and <see cref="VmidAllocator"/>.
/// </summary>
public abstract class TagAllocator
{
    private readonly BitArray _used;
    private int _next;

    /// <summary>Creates an allocator of ids <paramref name="first"/>..<paramref name="last"/>.</summary>
    protected TagAllocator(int first, int last)
    {
        First = first;
        Last = last;
        _used = new BitArray(last + 1);
        _next = first;
    }

    /// <summary>The lowest id handed out.</summary>
    public int First { get; }

    /// <summary>The highest id handed out.</summary>
    public int Last { get; }

    /// <summary>Ids in use.</summary>
    public int InUse { get; private set; }

    /// <summary>Allocates the lowest free id.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.ENOSPC"/>: every id is in use.</exception>
    public ushort Allocate()
    {
        for (int id = _next; id <= Last; id++)
        {
            if (!_used[id])
            {
                _used[id] = true;
                InUse++;
                _next = id + 1;
                return (ushort)id;
            }
        }

        throw new IoasidException(Errno.ENOSPC, $"all {Last - First + 1} {GetType().Name[..^9]}s are in use");
    }

    /// <summary>Releases <paramref name="id"/>.</summary>
    /// <exception cref="InvalidOperationException">The id is not allocated.</exception>
    public void Free(ushort id)
    {
        if (id < First || id > Last || !_used[id])
        {
            throw new InvalidOperationException($"id {id} is not allocated");
        }

        _used[id] = false;
        InUse--;
        _next = Math.Min(_next, id);
    }
}

/// <summary>ASIDs for stage-1 domains: 1 to 2^asid_bits − 1 (ASID 0 is not used, as in Linux).</summary>
public sealed class AsidAllocator(int bits) : TagAllocator(1, (1 << bits) - 1);

/// <summary>VMIDs for stage-2 domains: 1 to 2^vmid_bits − 1 (VMID 0 tags S1-only and bypass STEs).</summary>
public sealed class VmidAllocator(int bits) : TagAllocator(1, (1 << bits) - 1);
