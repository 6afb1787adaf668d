namespace Ioasid.Core.Iommufd;

// The few io_pagetable operations only the VFIO type1 compat layer (vfio_compat.c) needs: a map without IOAS_MAP's
// ioctl-level checks, an unmap that first cuts areas when large pages are off (type1), and the page-size report.
public sealed partial class Ioas
{
    /// <summary>Whether large IOMMU pages are disabled (IOMMU_OPTION_HUGE_PAGES 0, or VFIO TYPE1).</summary>
    internal bool LargePagesDisabled => _largePagesDisabled;

    /// <summary>
    /// VFIO_IOMMU_MAP_DMA: a FIXED_IOVA map of user memory with <paramref name="protection"/>. Unlike IOAS_MAP no
    /// ULONG_MAX check comes first and neither READ nor WRITE is required (type1 never rejected flags 0).
    /// </summary>
    internal Iova MapForVfioCompat(ulong userVa, ulong length, IoasMapFlags protection, ulong iova)
    {
        if (userVa > ulong.MaxValue - length)
        {
            throw new IoasidException(Errno.EOVERFLOW, "vaddr + size overflows");
        }

        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var pages = IoptPages.FromUser(Context.Process, userVa, length, protection.HasFlag(IoasMapFlags.Writeable), Context.AccountMode);
            return MapPages(pages, 0, length, (protection & IoasMapFlags.ReadWrite) | IoasMapFlags.FixedIova, iova);
        }
    }

    /// <summary>
    /// VFIO_IOMMU_UNMAP_DMA under TYPE1 (large pages disabled): cuts the areas under <c>iova + size - 1</c> and
    /// <c>iova - 1</c> so that part of an earlier map can be unmapped. Does nothing under TYPE1v2.
    /// </summary>
    internal void CutForVfioType1(ulong iova, ulong size)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            if (!_largePagesDisabled)
            {
                return;
            }

            CutAfter(iova + size - 1);
            if (iova != 0)
            {
                CutAfter(iova - 1);
            }
        }
    }

    /// <summary>
    /// VFIO_IOMMU_UNMAP_DMA without UNMAP_ALL (<c>iopt_unmap_iova</c>): every area inside the range is removed; ENOENT
    /// when one sticks out or nothing is there. Returns the bytes removed.
    /// </summary>
    internal ulong UnmapForVfioCompat(ulong iova, ulong size)
    {
        if (size == 0)
        {
            throw new IoasidException(Errno.EINVAL, "size is 0");
        }

        if (iova > ulong.MaxValue - (size - 1))
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova + size overflows");
        }

        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            return UnmapRange(iova, iova + (size - 1), emptyIsError: true);
        }
    }

    /// <summary>
    /// VFIO_IOMMU_GET_INFO's <c>iova_pgsizes</c>: the page sizes every domain supports, with sizes below 4 KiB folded
    /// into 4 KiB, and at least the IOAS alignment.
    /// </summary>
    internal ulong VfioPageSizes()
    {
        lock (Context.Sync)
        {
            var bitmap = ulong.MaxValue;
            foreach (var (domain, _) in _domains)
            {
                bitmap &= domain.PageSizeBitmap;
            }

            if ((bitmap & (AddressMath.PageSize - 1)) != 0)
            {
                bitmap &= ~(AddressMath.PageSize - 1);
                bitmap |= AddressMath.PageSize;
            }

            return System.Math.Max(bitmap, _space.IovaAlignment);
        }
    }

    /// <summary>VFIO_DMA_CC_IOMMU: whether every domain of the IOAS enforces cache coherency.</summary>
    internal bool EnforcesCacheCoherency()
    {
        lock (Context.Sync)
        {
            foreach (var (domain, _) in _domains)
            {
                if (domain.Ops.EnforceCacheCoherency?.Invoke(domain) != true)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// <c>iopt_area_split</c>: makes <paramref name="iova"/> the last byte of an area by cutting the area holding it in
    /// two (both halves share its pages). Nothing to do when no area holds it or it already ends there. EBUSY while
    /// the area is being unmapped; EINVAL when the cut is not aligned or accesses hold pages of the area.
    /// </summary>
    private void CutAfter(ulong iova)
    {
        if (!_space.Areas.TryFind(iova, out var interval) || interval.Last == iova)
        {
            return;
        }

        var area = interval.Value;
        if (area.PreventAccess)
        {
            throw new IoasidException(Errno.EBUSY, "the mapping is being unmapped");
        }

        var newStart = iova + 1;
        var alignment = _space.IovaAlignment;
        var rightOffset = area.PagesOffset + (newStart - interval.Start);
        if ((newStart & (alignment - 1)) != 0 || ((area.Pages.SourceAddress + rightOffset) & (alignment - 1)) != 0)
        {
            throw new IoasidException(Errno.EINVAL, $"0x{newStart:x} is not aligned to 0x{alignment:x}; the mapping cannot be cut there");
        }

        if (area.AccessPins > 0)
        {
            throw new IoasidException(Errno.EINVAL, "an access holds pages of the mapping; it cannot be cut");
        }

        if (_domains.Count > 0 && !_largePagesDisabled)
        {
            throw new IoasidException(Errno.EINVAL, "a mapping stored with large pages cannot be cut");
        }

        // Domains were filled in PAGE_SIZE units (large pages are off), so their tables need no change; each page
        // stays pinned once, now through whichever half covers it.
        _space.Areas.Remove(interval.Start);
        area.Pages.AddRef();
        Insert(interval.Start, newStart - interval.Start, new IoasArea(area.Pages, area.PagesOffset, area.Protection));
        Insert(newStart, interval.Last - iova, new IoasArea(area.Pages, rightOffset, area.Protection));
    }
}
