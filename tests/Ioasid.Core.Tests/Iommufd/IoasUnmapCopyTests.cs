using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Tests.Iommufd;

public sealed class IoasUnmapCopyTests : IDisposable
{
    private const ulong Va = 0x7f00_0000_0000;
    private const IoasMapFlags FixedRw = IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite;
    private readonly CoreFixture _f = new();
    private readonly Ioas _ioas;

    public IoasUnmapCopyTests() => _ioas = _f.Context.AllocIoas();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Unmap_of_part_of_an_area_is_ENOENT_and_removes_nothing()
    {
        _ioas.Map(Va, 0x4000, FixedRw, new Iova(0x10000));
        _ioas.Map(Va, 0x4000, FixedRw, new Iova(0x20000));

        ErrnoAssert.Throws(Errno.ENOENT, () => _ioas.Unmap(new Iova(0x11000), 0x1000));
        ErrnoAssert.Throws(Errno.ENOENT, () => _ioas.Unmap(new Iova(0x10000), 0x2000));
        // The first area is wholly inside, the second sticks out: still nothing is removed.
        ErrnoAssert.Throws(Errno.ENOENT, () => _ioas.Unmap(new Iova(0x10000), 0x12000));
        Assert.Equal(2, _ioas.AreaCount);
    }

    [Fact]
    public void Unmap_of_nothing_is_ENOENT_and_unmap_all_of_nothing_succeeds()
    {
        ErrnoAssert.Throws(Errno.ENOENT, () => _ioas.Unmap(new Iova(0x10000), 0x1000));
        Assert.Equal(0ul, _ioas.UnmapAll());
        Assert.Equal(0ul, _ioas.Unmap(Iova.Zero, ulong.MaxValue));
    }

    [Fact]
    public void Unmap_removes_whole_areas_across_gaps_and_returns_their_length()
    {
        _ioas.Map(Va, 0x1000, FixedRw, new Iova(0x10000));
        _ioas.Map(Va, 0x3000, FixedRw, new Iova(0x14000));
        _ioas.Map(Va, 0x1000, FixedRw, new Iova(0x30000));

        Assert.Equal(0x4000ul, _ioas.Unmap(new Iova(0x10000), 0x10000));
        Assert.Equal(new Iova(0x30000), Assert.Single(_ioas.Areas).Range.Start);
        Assert.Equal(0x1000ul, _ioas.UnmapAll());
        Assert.Equal(0, _ioas.AreaCount);
    }

    [Fact]
    public void Unmap_argument_errors()
    {
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Unmap(new Iova(0x1000), 0));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Unmap(new Iova(0x1000), ulong.MaxValue));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Unmap(new Iova(ulong.MaxValue), 1));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => _ioas.Unmap(new Iova(ulong.MaxValue - 0xfff), 0x2000));
    }

    [Fact]
    public void Copy_may_span_adjacent_areas_and_shares_their_memory()
    {
        _ioas.Map(Va, 0x2000, FixedRw, new Iova(0x10000));
        _ioas.Map(Va + 0x100000, 0x2000, FixedRw, new Iova(0x12000));
        var dst = _f.Context.AllocIoas();

        var iova = dst.CopyFrom(_ioas, new Iova(0x11000), 0x2000, FixedRw, new Iova(0x50000));

        Assert.Equal(new Iova(0x50000), iova);
        Assert.Equal(
            [
                new IoasAreaInfo(new IovaRange(new Iova(0x50000), new Iova(0x50fff)), Va + 0x1000, false, IoasMapFlags.ReadWrite),
                new IoasAreaInfo(new IovaRange(new Iova(0x51000), new Iova(0x51fff)), Va + 0x100000, false, IoasMapFlags.ReadWrite),
            ],
            dst.Areas);
        // The copy outlives the source mapping.
        _ioas.UnmapAll();
        Assert.Equal(2, dst.AreaCount);
    }

    [Fact]
    public void Copy_within_the_same_ioas_works()
    {
        _ioas.Map(Va, 0x4000, FixedRw, new Iova(0x10000));
        var iova = _ioas.CopyFrom(_ioas, new Iova(0x10000), 0x4000, IoasMapFlags.Readable);
        Assert.Equal(2, _ioas.AreaCount);
        Assert.Equal(IoasMapFlags.Readable, _ioas.FindArea(iova)!.Value.Protection);
    }

    [Fact]
    public void Copy_errors_follow_the_kernel()
    {
        _ioas.Map(Va, 0x2000, FixedRw, new Iova(0x10000));
        _ioas.Map(Va, 0x2000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x13000));
        var dst = _f.Context.AllocIoas();
        dst.Map(Va, 0x1000, FixedRw, new Iova(0x50000));

        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => dst.CopyFrom(_ioas, new Iova(0x10000), 0x1000, IoasMapFlags.Readable | (IoasMapFlags)0x10));
        ErrnoAssert.Throws(Errno.EINVAL, () => dst.CopyFrom(_ioas, new Iova(0x10000), 0x1000, IoasMapFlags.None));
        ErrnoAssert.Throws(Errno.EINVAL, () => dst.CopyFrom(_ioas, new Iova(0x10000), 0, IoasMapFlags.Readable));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => dst.CopyFrom(_ioas, new Iova(ulong.MaxValue), 0x1000, IoasMapFlags.Readable));
        // A gap between 0x12000 and 0x13000.
        ErrnoAssert.Throws(Errno.ENOENT, () => dst.CopyFrom(_ioas, new Iova(0x11000), 0x3000, IoasMapFlags.Readable));
        ErrnoAssert.Throws(Errno.ENOENT, () => dst.CopyFrom(_ioas, new Iova(0x40000), 0x1000, IoasMapFlags.Readable));
        ErrnoAssert.Throws(Errno.EEXIST, () => dst.CopyFrom(_ioas, new Iova(0x10000), 0x1000, FixedRw, new Iova(0x50000)));
        // WRITEABLE of memory mapped read-only.
        ErrnoAssert.Throws(Errno.EPERM, () => dst.CopyFrom(_ioas, new Iova(0x13000), 0x1000, IoasMapFlags.ReadWrite));
        Assert.Equal(1, dst.AreaCount);
        Assert.Equal(2, _ioas.AreaCount);
    }

    [Fact]
    public void Copy_from_an_ioas_of_another_context_is_ENOENT()
    {
        using var other = new IommufdContext(_f.Process);
        var foreign = other.AllocIoas();
        foreign.Map(Va, 0x1000, FixedRw, new Iova(0x10000));
        ErrnoAssert.Throws(Errno.ENOENT, () => _ioas.CopyFrom(foreign, new Iova(0x10000), 0x1000, IoasMapFlags.Readable));
    }

    [Fact]
    public void Destroying_an_ioas_with_mappings_is_allowed()
    {
        _ioas.Map(Va, 0x2000, FixedRw, new Iova(0x10000));
        _f.Context.Destroy(_ioas.Id);
        Assert.True(_ioas.IsDestroyed);
        Assert.Equal(0, _ioas.AreaCount);
    }
}
