using System.Collections.Generic;

namespace Ioasid.Core.Iommu;

/// <summary>
/// What an unmap has cleared and must still invalidate (the kernel's <c>struct iommu_iotlb_gather</c>): an IOVA
/// range, the page size it was cleared with, and page-table pages that may be freed only after the IOTLB no
/// longer references them. Drivers record into it from <c>unmap_pages</c> and flush it in <c>iotlb_sync</c>.
/// One gather is reused across operations, so recording costs no allocation.
/// </summary>
public sealed class IotlbGather
{
    /// <summary>First gathered IOVA; <see cref="ulong.MaxValue"/> when empty.</summary>
    public ulong Start { get; private set; } = ulong.MaxValue;

    /// <summary>Last gathered IOVA (inclusive); 0 when empty.</summary>
    public ulong End { get; private set; }

    /// <summary>The page size of the gathered range, or 0 when empty.</summary>
    public ulong PageSize { get; private set; }

    /// <summary>Page-table pages to free once the range has been invalidated.</summary>
    public List<PhysAddr> Freelist { get; } = new();

    /// <summary>True when a flush queue will call <c>flush_iotlb_all</c> later, so per-range work may be skipped.</summary>
    public bool Queued { get; set; }

    /// <summary>Whether nothing has been gathered.</summary>
    public bool IsEmpty => Start > End;

    /// <summary>
    /// Records a cleared page (<c>iommu_iotlb_gather_add_page</c>): if it is disjoint from what is gathered or of
    /// another page size, the gathered range is synced first through the domain's <c>iotlb_sync</c>.
    /// </summary>
    public void AddPage(IommuDomain domain, Iova iova, ulong size)
    {
        var start = iova.Value;
        var end = start + (size - 1);
        if (!IsEmpty && (PageSize != size || end + 1 < Start || start > End + 1))
        {
            Sync(domain);
        }

        PageSize = size;
        AddRange(iova, size);
    }

    /// <summary>Widens the gathered range (<c>iommu_iotlb_gather_add_range</c>), for range-based invalidation hardware.</summary>
    public void AddRange(Iova iova, ulong size)
    {
        var start = iova.Value;
        var end = start + (size - 1);
        if (start < Start)
        {
            Start = start;
        }

        if (end > End)
        {
            End = end;
        }
    }

    /// <summary>Flushes through the domain's <c>iotlb_sync</c> (if it has one) and resets the gather.</summary>
    public void Sync(IommuDomain domain)
    {
        domain.Ops.IotlbSync?.Invoke(domain, this);
        Reset();
    }

    /// <summary>Empties the gather; the freelist must already have been released by the driver.</summary>
    public void Reset()
    {
        Start = ulong.MaxValue;
        End = 0;
        PageSize = 0;
        Freelist.Clear();
        Queued = false;
    }
}
