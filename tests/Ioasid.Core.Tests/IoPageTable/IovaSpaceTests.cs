using Ioasid.TestKit;
using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

public sealed class IovaSpaceTests
{
    private const ulong Page = AutoIovaAlignment.PageSize;
    private const ulong Huge = AutoIovaAlignment.HugePageSize;
    private const ulong Max = ulong.MaxValue;

    private static void Map(IovaSpace<int> s, ulong iova, ulong length) =>
        Assert.True(s.Areas.TryInsert(iova, iova + length - 1, 0, out _));

    private static ulong Alloc(IovaSpace<int> s, ulong source, ulong length, ulong cap = Huge)
    {
        Assert.Equal(Errno.None, s.AllocateIova(source, length, cap, out ulong iova));
        return iova;
    }

    private static List<(ulong, ulong)> Ranges(IovaSpace<int> s)
    {
        var list = new List<(ulong, ulong)>();
        foreach (IovaRange r in s.EnumerateIovaRanges())
        {
            list.Add((r.Start, r.Last));
        }

        return list;
    }

    [Fact]
    public void Empty_ioas_allocates_at_the_first_page_never_zero()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Page, Alloc(s, 0, 1));
        Assert.Equal(Page, Alloc(s, 0x7f00_0000_0000, 4096));
        Assert.Equal(Huge, Alloc(s, 0x7f00_0000_0000, 4UL << 20)); // 2 MiB aligned: first 2 MiB boundary >= 4096
        Assert.Equal(Page, Alloc(s, 0x7f00_0000_0000, 4UL << 20, cap: Page));
    }

    [Fact]
    public void First_fit_takes_the_lowest_hole()
    {
        var s = new IovaSpace<int>();
        Map(s, Page, Page);          // [4K, 8K)
        Map(s, 4 * Page, Page);      // [16K, 20K)
        Assert.Equal(2 * Page, Alloc(s, 0, Page));
        Map(s, 2 * Page, Page);

        // An 8 KiB request needs 8 KiB alignment: [12K, 16K) is too small, [20K, ...) starts at 24K once aligned.
        Assert.Equal(6 * Page, Alloc(s, 0, 2 * Page));

        // The same request from a source aligned only to 4 KiB takes 4 KiB alignment: lands at 20K.
        Assert.Equal(5 * Page, Alloc(s, 0x7f00_0000_1000, 2 * Page));
    }

    [Fact]
    public void Page_offset_is_preserved()
    {
        var s = new IovaSpace<int>();
        ulong iova = Alloc(s, 0x7f00_0000_1234, 0x3000);
        Assert.Equal(0x234UL, iova % Page);
        Assert.Equal(0x1234UL, iova); // alignment 4 (lowest set bit of ...234): ALIGN(0x1000, 4) | 0x234
        Map(s, iova, 0x3000);

        iova = Alloc(s, 0x7f00_0000_0800, 0x2000);
        Assert.Equal(0x800UL, iova % Page);
        Assert.True(iova >= 0x4234);
    }

    [Fact]
    public void Page_offset_is_ored_in_as_the_kernel_does()
    {
        // alignment 0x100 (length 0x100), page offset 0x200 (source ...200): the kernel takes ALIGN(0x1500, 0x100) |
        // 0x200 = 0x1700 although 0x1600 would also carry the offset bits. The model matches the kernel.
        var s = new IovaSpace<int>();
        Map(s, 0x1000, 0x500);
        Assert.Equal(0x1700UL, Alloc(s, 0x7f00_0000_0200, 0x100));
    }

    [Fact]
    public void Allowed_ranges_confine_allocation()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(1UL << 30, (1UL << 30) + (1UL << 20) - 1)]));
        Assert.Equal(1UL << 30, Alloc(s, 0, Page));
        Map(s, 1UL << 30, 1UL << 20);
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, Page, Huge, out _));

        // Clearing the list reopens the whole window.
        Assert.Equal(Errno.None, s.SetAllowedIovas([]));
        Assert.Equal(Page, Alloc(s, 0, Page));
    }

    [Fact]
    public void Touching_allowed_ranges_form_one_span()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(0x11000, 0x11fff), new IovaRange(0x10000, 0x10fff)]));
        Assert.Equal(0x10000UL, Alloc(s, 0, 0x2000));
    }

    [Fact]
    public void Allowed_range_at_zero_never_yields_zero()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(0, 0xffff)]));
        Assert.Equal(Page, Alloc(s, 0, 1));
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(0, Page - 1)]));
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, 1, Huge, out _));
    }

    [Fact]
    public void Window_ends_a_page_below_the_top()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(Max - 0x2fff, Max - 1)]));
        Assert.Equal(Max - 0x2fff, Alloc(s, 0, Page));
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, 2 * Page, Huge, out _)); // would need [..E000, ..FFFF]
        Map(s, Max - 0x2fff, Page);
        Assert.Equal(Max - 0x1fff, Alloc(s, 0, Page));
        Map(s, Max - 0x1fff, Page);
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, 1, Huge, out _)); // [Max-0xfff, Max] is outside the window
    }

    [Fact]
    public void Align_overflow_at_the_top_is_no_fit_not_iova_zero()
    {
        // The kernel's ALIGN() would wrap to 0 here and could return IOVA 0 (outside the allowed range); the model
        // treats the wrapped span as not fitting.
        var s = new IovaSpace<int>();
        ulong start = Max - Huge + 2;
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(start, Max - 1)]));
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, 3UL << 19, Huge, out _));
    }

    [Fact]
    public void Reserved_ranges_are_skipped()
    {
        var s = new IovaSpace<int>();
        var domain = new object();
        Assert.Equal(Errno.None, s.ReserveIova(0, (1UL << 24) - 1, domain));
        Assert.Equal(Errno.None, s.ReserveIova(1UL << 31, Max, domain));
        Assert.Equal(1UL << 24, Alloc(s, 0, Page));

        var device = new object();
        Assert.Equal(Errno.None, s.ReserveIova(1UL << 24, (1UL << 24) + 0xfffff, device)); // an MSI window
        Assert.Equal((1UL << 24) + 0x100000, Alloc(s, 0, Page));

        s.RemoveReservedIova(device);
        Assert.Equal(1UL << 24, Alloc(s, 0, Page));

        // Fill the aperture: ENOSPC.
        Map(s, 1UL << 24, (1UL << 31) - (1UL << 24));
        Assert.Equal(Errno.ENOSPC, s.AllocateIova(0, 1, Huge, out _));
    }

    [Fact]
    public void Allocation_honours_iova_alignment()
    {
        var s = new IovaSpace<int> { IovaAlignment = 2048 };
        Assert.Equal(Errno.EINVAL, s.AllocateIova(0, 1024, Huge, out _));
        Assert.Equal(Errno.None, s.AllocateIova(0, 2048, Huge, out ulong iova));
        Assert.Equal(0UL, iova % 2048);
        Assert.Equal(Errno.EOVERFLOW, s.AllocateIova(0, 0, Huge, out _));
        Assert.Equal(Errno.EOVERFLOW, s.AllocateIova(0, Max / 2, Huge, out _));
    }

    [Fact]
    public void CheckIova_errors_in_kernel_order()
    {
        var s = new IovaSpace<int> { IovaAlignment = Page };
        s.ReserveIova(0x10000, 0x1ffff, null);
        Map(s, 0x40000, 0x10000);

        Assert.Equal(Errno.EINVAL, s.CheckIova(0x123, Page));                // misaligned
        Assert.Equal(Errno.EOVERFLOW, s.CheckIova(Max - Page + 1, 2 * Page)); // end wraps
        Assert.Equal(Errno.EINVAL, s.CheckIova(0xf000, 0x2000));              // hits the reservation
        Assert.Equal(Errno.EEXIST, s.CheckIova(0x3f000, 0x2000));             // hits the area
        Assert.Equal(Errno.None, s.CheckIova(0x20000, 0x20000));              // exactly between them
        Assert.Equal(Errno.EINVAL, s.CheckIova(0x20000, 0));

        // Reservation is checked before areas.
        Assert.Equal(Errno.EADDRINUSE, s.ReserveIova(0x48000, 0x48fff, null)); // inside the area: nothing added
        Assert.Equal(Errno.EEXIST, s.CheckIova(0x48000, Page));
        Assert.Equal(Errno.None, s.ReserveIova(0x50000, 0x50fff, null));
        Assert.Equal(Errno.EINVAL, s.CheckIova(0x4f000, 0x2000)); // hits both: the reservation wins
        Assert.Equal(Errno.None, s.CheckIova(Max - Page + 1, Page));          // last page of the space
    }

    [Fact]
    public void Fixed_maps_ignore_allowed_ranges()
    {
        var s = new IovaSpace<int>();
        s.SetAllowedIovas([new IovaRange(1UL << 30, (1UL << 31) - 1)]);
        Assert.Equal(Errno.None, s.CheckIova(Page, Page));
    }

    [Fact]
    public void Reserve_conflicts_are_EADDRINUSE()
    {
        var s = new IovaSpace<int>();
        Map(s, 0x10000, 0x1000);
        Assert.Equal(Errno.EADDRINUSE, s.ReserveIova(0x10fff, 0x20000, null));
        s.SetAllowedIovas([new IovaRange(0x100000, 0x1fffff)]);
        Assert.Equal(Errno.EADDRINUSE, s.ReserveIova(0, 0x100000, null));
        Assert.Equal(Errno.None, s.ReserveIova(0x11000, 0xfffff, null));
        Assert.Equal(1, s.Reserved.Count);
    }

    [Fact]
    public void SetAllowed_validates_and_is_atomic()
    {
        var s = new IovaSpace<int>();
        Assert.Equal(Errno.None, s.SetAllowedIovas([new IovaRange(0x1000, 0x1fff)]));
        Assert.Equal(Errno.EINVAL, s.SetAllowedIovas([new IovaRange(0x5000, 0x5000)]));                            // start == last
        Assert.Equal(Errno.EINVAL, s.SetAllowedIovas([new IovaRange(0x6000, 0x5000)]));                            // start > last
        Assert.Equal(Errno.EINVAL, s.SetAllowedIovas([new IovaRange(0x5000, 0x6000), new IovaRange(0x6000, 0x7000)])); // overlap
        s.ReserveIova(0x9000, 0x9fff, null);
        Assert.Equal(Errno.EADDRINUSE, s.SetAllowedIovas([new IovaRange(0x5000, 0x6000), new IovaRange(0x8000, 0x9000)]));

        // Old list kept after every failure.
        Assert.Equal(1, s.Allowed.Count);
        Assert.True(s.Allowed.TryFind(0x1000, out _));
    }

    [Fact]
    public void Iova_ranges_report_reserved_holes_only()
    {
        var s = new IovaSpace<int>();
        Assert.Equal([(0UL, Max)], Ranges(s));
        s.SetAllowedIovas([new IovaRange(0x100000, 0x1fffff)]);
        Assert.Equal([(0UL, Max)], Ranges(s)); // allowed ranges do not narrow IOVA_RANGES
        s.SetAllowedIovas([]);
        var d = new object();
        s.ReserveIova(0, (1UL << 24) - 1, d);
        s.ReserveIova(1UL << 31, Max, d);
        Assert.Equal([(1UL << 24, (1UL << 31) - 1)], Ranges(s));
    }

    [Fact]
    public void Alloc_does_not_allocate_memory()
    {
        var s = new IovaSpace<int>();
        s.ReserveIova(0, 0xffff, null);
        s.SetAllowedIovas([new IovaRange(0x10000, 0xffffff), new IovaRange(0x2000000, 0x2ffffff)]);
        for (int i = 0; i < 1000; i++)
        {
            ulong iova = Alloc(s, 0, Page);
            Map(s, iova, Page);
        }

        s.AllocateIova(0, Page, Huge, out _);
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                s.AllocateIova((ulong)i * 0x1000, Page, Huge, out _);
            }
        }));
    }
}
