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
        var first = (iova.Value - BaseIova.Value) / PageSize;
        var last = (iova.Value + length - 1 - BaseIova.Value) / PageSize;
        for (var bit = first; bit <= last && bit / 64 < (ulong)Bits.Length; bit++)
        {
            Bits[bit / 64] |= 1UL << (int)(bit % 64);
        }

        Gather.AddRange(iova, length);
    }
}
