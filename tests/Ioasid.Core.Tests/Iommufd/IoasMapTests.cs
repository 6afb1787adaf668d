using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Tests.Iommufd;

public sealed class IoasMapTests : IDisposable
{
    private const ulong Va = 0x7f00_0000_0000;
    private readonly CoreFixture _f = new();
    private readonly Ioas _ioas;

    public IoasMapTests() => _ioas = _f.Context.AllocIoas();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Fixed_map_goes_where_asked_and_is_one_area()
    {
        var iova = _ioas.Map(Va, 1UL << 30, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0x4000_0000));

        Assert.Equal(new Iova(0x4000_0000), iova);
        var area = Assert.Single(_ioas.Areas);
        Assert.Equal(new IovaRange(new Iova(0x4000_0000), new Iova(0x7fff_ffff)), area.Range);
        Assert.Equal(Va, area.SourceAddress);
        Assert.Equal(IoasMapFlags.ReadWrite, area.Protection);
        Assert.False(area.FromFile);
    }

    [Fact]
    public void Automatic_iova_is_the_lowest_hole_at_the_sources_alignment_and_never_zero()
    {
        // length 16 KiB, source 64 KiB aligned: alignment = min(roundup(16K), lowbit(va)) = 16 KiB.
        Assert.Equal(new Iova(0x4000), _ioas.Map(Va + 0x10000, 0x4000, IoasMapFlags.Readable));
        // The next one fits right after it.
        Assert.Equal(new Iova(0x8000), _ioas.Map(Va + 0x10000, 0x4000, IoasMapFlags.Readable));
        // 2 MiB of 2 MiB-aligned memory lands 2 MiB aligned (the THP cap).
        Assert.Equal(new Iova(0x20_0000), _ioas.Map(Va, 0x20_0000, IoasMapFlags.Readable));
        // 4 MiB is still only 2 MiB aligned: the alignment is capped at the huge page size.
        Assert.Equal(new Iova(0x40_0000), _ioas.Map(Va, 0x40_0000, IoasMapFlags.Readable));
        Assert.DoesNotContain(_ioas.Areas, a => a.Range.Start == Iova.Zero);
    }

    [Fact]
    public void Automatic_iova_keeps_the_sub_page_offset_of_the_source()
    {
        var iova = _ioas.Map(Va + 0x123, 0x100, IoasMapFlags.Readable);

        Assert.Equal(0x123ul, iova.PageOffset);
        Assert.Equal(Va + 0x123, _ioas.FindArea(iova)!.Value.SourceAddress);
    }

    [Fact]
    public void Overlapping_fixed_map_is_EEXIST_and_changes_nothing()
    {
        _ioas.Map(Va, 0x2000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0x10000));
        var before = _ioas.Areas;

        ErrnoAssert.Throws(Errno.EEXIST, () => _ioas.Map(Va, 0x2000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0x11000)));
        ErrnoAssert.Throws(Errno.EEXIST, () => _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0xf000 + 0x2000)));
        Assert.Equal(before, _ioas.Areas);
        // Adjacent on both sides is fine.
        _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0xf000));
        _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x12000));
        Assert.Equal(3, _ioas.AreaCount);
    }

    [Fact]
    public void Fixed_map_into_a_reserved_range_is_EINVAL()
    {
        _ioas.Reserve(0xfee0_0000, 0xfeef_ffff, owner: this);

        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(Va, 0x2000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0xfeef_f000)));
        Assert.Equal(0, _ioas.AreaCount);
        // A reservation may not cut into an allowed range either.
        _ioas.AllowIovas([new IovaRange(new Iova(0xfed0_0000), new Iova(0xfedf_ffff))]);
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => _ioas.Reserve(0xfed0_0000, 0xfed0_0fff, owner: this));
    }

    [Theory]
    [InlineData(IoasMapFlags.Readable | (IoasMapFlags)8, Errno.EOPNOTSUPP)]
    [InlineData(IoasMapFlags.None, Errno.EINVAL)]
    [InlineData(IoasMapFlags.FixedIova, Errno.EINVAL)]
    public void Flags_are_checked_first(IoasMapFlags flags, Errno errno)
    {
        ErrnoAssert.Throws(errno, () => _ioas.Map(Va, 0x1000, flags, new Iova(0x1000)));
    }

    [Fact]
    public void Lengths_and_addresses_are_checked_with_the_kernels_errno()
    {
        var fixedRw = IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite;
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Map(Va, ulong.MaxValue, IoasMapFlags.ReadWrite));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Map(Va, 0x1000, fixedRw, new Iova(ulong.MaxValue)));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Map(ulong.MaxValue - 0xfff, 0x2000, IoasMapFlags.ReadWrite));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(Va, 0, IoasMapFlags.ReadWrite));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(0, ulong.MaxValue - 0xfff, IoasMapFlags.ReadWrite));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Map(Va, 0x2000, fixedRw, new Iova(ulong.MaxValue - 0xfff)));
        // Automatic allocation refuses lengths of half the space or more.
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Map(0, ulong.MaxValue / 2, IoasMapFlags.ReadWrite));
        Assert.Equal(0, _ioas.AreaCount);
    }

    [Fact]
    public void No_hole_is_ENOSPC()
    {
        _ioas.AllowIovas([new IovaRange(new Iova(0x10000), new Iova(0x13fff))]);
        Assert.Equal(new Iova(0x10000), _ioas.Map(Va, 0x4000, IoasMapFlags.Readable));
        ErrnoAssert.Throws(Errno.ENOSPC, () => _ioas.Map(Va, 0x1000, IoasMapFlags.Readable));
        Assert.Equal(1, _ioas.AreaCount);
    }

    [Fact]
    public void Fixed_maps_are_not_limited_by_allowed_ranges()
    {
        _ioas.AllowIovas([new IovaRange(new Iova(0x10000), new Iova(0x1ffff))]);

        Assert.Equal(new Iova(0x80000), _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x80000)));
        Assert.Equal(new Iova(0x10000), _ioas.Map(Va, 0x1000, IoasMapFlags.Readable));
    }

    [Fact]
    public void Without_huge_pages_everything_must_be_page_aligned()
    {
        Assert.True(_ioas.HugePages);
        Assert.Equal(1ul, _ioas.IovaAlignment);
        _ioas.Map(Va + 0x10, 0x10, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x10010));

        // An existing byte-granular mapping blocks the raise of the alignment.
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => _ioas.SetHugePages(false));
        Assert.True(_ioas.HugePages);
        Assert.Equal(1ul, _ioas.IovaAlignment);

        _ioas.UnmapAll();
        _ioas.SetHugePages(false);
        Assert.False(_ioas.HugePages);
        Assert.Equal(0x1000ul, _ioas.IovaAlignment);
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(Va, 0x800, IoasMapFlags.Readable));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x10800)));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(Va + 0x800, 0x1000, IoasMapFlags.Readable));
        _ioas.SetHugePages(false); // already off: no-op
        _ioas.SetHugePages(true);
        Assert.Equal(1ul, _ioas.IovaAlignment);
    }

    [Fact]
    public void Map_file_checks_the_file_size()
    {
        var file = _f.Machine.CreateMemFd("guest-ram", 0x10000);

        var iova = _ioas.MapFile(file, 0x4000, 0x4000, IoasMapFlags.ReadWrite);
        Assert.True(_ioas.FindArea(iova)!.Value.FromFile);
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.MapFile(file, 0x8000, 0x9000, IoasMapFlags.ReadWrite));
        Assert.Equal(1, _ioas.AreaCount);
    }
}
