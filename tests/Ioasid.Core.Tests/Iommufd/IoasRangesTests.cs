using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Tests.Iommufd;

public sealed class IoasRangesTests : IDisposable
{
    private readonly CoreFixture _f = new();
    private readonly Ioas _ioas;

    public IoasRangesTests() => _ioas = _f.Context.AllocIoas();

    public void Dispose() => _f.Dispose();

    private static IovaRange R(ulong start, ulong last) => new(new Iova(start), new Iova(last));

    [Fact]
    public void An_empty_ioas_offers_the_whole_space()
    {
        Assert.Equal([IovaRange.All], _ioas.GetIovaRanges());
    }

    [Fact]
    public void Reserved_ranges_are_cut_out_and_overlapping_reservations_merge()
    {
        _ioas.Reserve(0, 0xffff, owner: "aperture");
        _ioas.Reserve(0xfee0_0000, 0xfeef_ffff, owner: "msi");
        _ioas.Reserve(0xfee8_0000, 0xff00_0fff, owner: "other");

        Assert.Equal([R(0x10000, 0xfedf_ffff), R(0xff00_1000, ulong.MaxValue)], _ioas.GetIovaRanges());

        Assert.Equal(1, _ioas.Unreserve("other"));
        Assert.Equal([R(0x10000, 0xfedf_ffff), R(0xfef0_0000, ulong.MaxValue)], _ioas.GetIovaRanges());
    }

    [Fact]
    public void A_too_small_array_is_EMSGSIZE_after_filling_what_fits_and_reporting_the_count()
    {
        _ioas.Reserve(0x1000, 0x1fff, owner: "a");
        _ioas.Reserve(0x5000, 0x5fff, owner: "b");
        var sentinel = R(0xdead, 0xbeef);
        var two = new[] { sentinel, sentinel };

        var error = Assert.Throws<IoasidException>(() => _ioas.GetIovaRanges(two.AsSpan(0, 1), out _, out _));
        Assert.Equal(Errno.EMSGSIZE, error.Errno);
        Assert.Equal(R(0, 0xfff), two[0]);   // filled before failing
        Assert.Equal(sentinel, two[1]);      // past the capacity: untouched

        var count = 0;
        try
        {
            _ioas.GetIovaRanges(two, out count, out _);
        }
        catch (IoasidException e) when (e.Errno == Errno.EMSGSIZE)
        {
        }

        Assert.Equal(3, count);
        var three = new IovaRange[3];
        _ioas.GetIovaRanges(three, out count, out var alignment);
        Assert.Equal(3, count);
        Assert.Equal(1ul, alignment);
        Assert.Equal([R(0, 0xfff), R(0x2000, 0x4fff), R(0x6000, ulong.MaxValue)], three);
        // num_iovas 0 is how userspace asks for the count alone.
        ErrnoAssert.Throws(Errno.EMSGSIZE, () => _ioas.GetIovaRanges(Span<IovaRange>.Empty, out _, out _));
    }

    [Fact]
    public void Allowed_ranges_do_not_narrow_iova_ranges_but_steer_allocation()
    {
        _ioas.AllowIovas([R(0x100000, 0x1fffff), R(0x400000, 0x4fffff)]);

        Assert.Equal([IovaRange.All], _ioas.GetIovaRanges());
        Assert.Equal([R(0x100000, 0x1fffff), R(0x400000, 0x4fffff)], _ioas.AllowedIovas);
        Assert.Equal(new Iova(0x100000), _ioas.Map(0x7f00_0000_0000, 0x100000, IoasMapFlags.Readable));
        Assert.Equal(new Iova(0x400000), _ioas.Map(0x7f00_0000_0000, 0x1000, IoasMapFlags.Readable));
        _ioas.AllowIovas([]);
        Assert.Empty(_ioas.AllowedIovas);
    }

    [Fact]
    public void Bad_allowed_lists_are_refused_and_the_old_list_stays()
    {
        _ioas.AllowIovas([R(0x100000, 0x1fffff)]);
        _ioas.Reserve(0x800000, 0x8fffff, owner: "msi");

        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.AllowIovas([R(0x1000, 0x1000)]));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.AllowIovas([R(0x2000, 0x1000)]));
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.AllowIovas([R(0x1000, 0x3fff), R(0x3000, 0x4fff)]));
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => _ioas.AllowIovas([R(0x8ff000, 0x900fff)]));
        Assert.Equal([R(0x100000, 0x1fffff)], _ioas.AllowedIovas);
    }
}
