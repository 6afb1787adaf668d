using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Tests.Iommufd;

public sealed class ContextTests : IDisposable
{
    private readonly CoreFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Ids_start_at_one_and_are_reused_lowest_first()
    {
        var a = _f.Context.AllocIoas();
        var b = _f.Context.AllocIoas();
        var c = _f.Context.AllocIoas();
        Assert.Equal([1u, 2u, 3u], new[] { a.Id.Value, b.Id.Value, c.Id.Value });

        _f.Context.Destroy(c.Id);
        _f.Context.Destroy(a.Id);
        Assert.Equal(1u, _f.Context.AllocIoas().Id.Value);   // lowest free first
        Assert.Equal(3u, _f.Context.AllocIoas().Id.Value);
        Assert.Equal(4u, _f.Context.AllocIoas().Id.Value);
    }

    [Fact]
    public void Destroy_of_an_unknown_or_destroyed_id_is_ENOENT()
    {
        var ioas = _f.Context.AllocIoas();
        ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.Destroy(new IoasidId(99)));
        _f.Context.Destroy(ioas.Id);
        ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.Destroy(ioas.Id));
        Assert.True(ioas.IsDestroyed);
        ErrnoAssert.Throws(Errno.ENOENT, () => ioas.Map(0x10000, 4096, IoasMapFlags.ReadWrite));
    }

    [Fact]
    public void Lookup_by_the_wrong_kind_is_ENOENT()
    {
        var ioas = _f.Context.AllocIoas();
        Assert.Same(ioas, _f.Context.Get<Ioas>(ioas.Id));
        Assert.Same(ioas, _f.Context.GetObject(ioas.Id));
        ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.Get<Ioas>(new IoasidId(2)));
    }

    [Fact]
    public void A_failed_creation_releases_its_id_and_was_never_visible()
    {
        IoasidId? seen = null;
        Assert.Throws<InvalidOperationException>(() => _f.Context.Create<Ioas>(id =>
        {
            seen = id;
            Assert.True(_f.Context.IsReserved(id));
            // Half-made: a lookup of the reserved id finds nothing.
            ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.GetObject(id));
            ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.Destroy(id));
            throw new InvalidOperationException("construction failed");
        }));

        Assert.Equal(new IoasidId(1), seen);
        Assert.False(_f.Context.IsReserved(new IoasidId(1)));
        Assert.Equal(0, _f.Context.ObjectCount);
        Assert.Equal(1u, _f.Context.AllocIoas().Id.Value);
    }

    [Fact]
    public void Objects_lists_live_objects_in_id_order()
    {
        var a = _f.Context.AllocIoas();
        var b = _f.Context.AllocIoas();
        _f.Context.Destroy(a.Id);
        var c = _f.Context.AllocIoas();

        Assert.Equal([c, b], _f.Context.Objects);
        Assert.All(_f.Context.Objects, o => Assert.Equal(ObjectKind.Ioas, o.Kind));
        Assert.Equal(1, b.Users);
    }

    [Fact]
    public void Close_destroys_everything_and_refuses_further_use()
    {
        var ioas = _f.Context.AllocIoas();
        ioas.Map(0x100000, 0x4000, IoasMapFlags.ReadWrite);
        _f.Context.Dispose();

        Assert.True(_f.Context.IsClosed);
        Assert.True(ioas.IsDestroyed);
        Assert.Equal(0, ioas.AreaCount);
        ErrnoAssert.Throws(Errno.EBADF, () => _f.Context.AllocIoas());
        _f.Context.Dispose(); // closing twice is harmless
    }

    [Fact]
    public void Rlimit_mode_needs_cap_sys_resource_and_an_empty_context()
    {
        Assert.Equal(Core.Platform.AccountMode.User, _f.Context.AccountMode);
        ErrnoAssert.Throws(Errno.EPERM, () => _f.Context.SetAccountMode(Core.Platform.AccountMode.Mm));

        _f.Process.CapSysResource = true;
        _f.Context.SetAccountMode(Core.Platform.AccountMode.Mm);
        Assert.Equal(Core.Platform.AccountMode.Mm, _f.Context.AccountMode);
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.SetAccountMode(Core.Platform.AccountMode.None));

        _f.Context.AllocIoas();
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.SetAccountMode(Core.Platform.AccountMode.User));
        Assert.Equal(Core.Platform.AccountMode.Mm, _f.Context.AccountMode);
    }

    [Fact]
    public void A_vfio_open_starts_in_mm_mode()
    {
        using var context = new IommufdContext(_f.Process, openedAsVfioContainer: true);
        Assert.Equal(Core.Platform.AccountMode.Mm, context.AccountMode);
    }
}
