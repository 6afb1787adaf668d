using System;

namespace Ioasid.Core.Iommu;

/// <summary>
/// Where <c>read_and_clear_dirty</c> reports written pages: one bit per <see cref="PageSize"/> page from
/// <see cref="BaseIova"/>, plus the gather of what must be invalidated afterwards (cached translations keep stale
/// dirty state).
/// </summary>
public sealed class DirtyBitmap
{
    /// <summary>A bitmap of <paramref name="bits"/> pages of <paramref name="pageSize"/> bytes from <paramref name="baseIova"/>.</summary>
    public DirtyBitmap(Iova baseIova, ulong pageSize, ulong bits)
    {
        BaseIova = baseIova;
        PageSize = pageSize;
        Bits = new ulong[(bits + 63) / 64];
    }

    /// <summary>
    /// A bitmap with no bits, for clearing only (the kernel passes a NULL bitmap when it clears the dirty state before
    /// tracking starts): <see cref="Record"/> then only gathers the ranges to invalidate.
    /// </summary>
    public static DirtyBitmap ClearOnly(Iova baseIova, ulong pageSize) => new(baseIova, pageSize, 0);

    /// <summary>Whether this is a clear-only bitmap (<see cref="ClearOnly"/>): drivers may clear even while tracking is off.</summary>
    public bool IsClearOnly => Bits.Length == 0;

    /// <summary>The IOVA of bit 0.</summary>
    public Iova BaseIova { get; }

    /// <summary>The bytes each bit stands for.</summary>
    public ulong PageSize { get; }

    /// <summary>The bits, 64 per word, least significant first (as the uAPI bitmap).</summary>
    public ulong[] Bits { get; }

    /// <summary>The ranges to invalidate once reading is done.</summary>
    public IotlbGather Gather { get; } = new();

    /// <summary>Marks <c>[iova, iova + length)</c> dirty.</summary>
    public void Record(Iova iova, ulong length)
    {
        // A large leaf may start before the bitmap or end after it: only the bits in range are set.
        var start = Math.Max(iova.Value, BaseIova.Value);
        var end = iova.Value + (length - 1);
        if (end < start)
        {
            return;
        }

        var first = (start - BaseIova.Value) / PageSize;
        var last = (end - BaseIova.Value) / PageSize;
        for (var bit = first; bit <= last && bit / 64 < (ulong)Bits.Length; bit++)
        {
            Bits[bit / 64] |= 1UL << (int)(bit % 64);
        }

        Gather.AddRange(iova, length);
    }
}
