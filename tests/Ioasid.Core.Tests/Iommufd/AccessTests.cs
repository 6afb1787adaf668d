using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>A driver-side access that records its pins and honours (or, on request, ignores) unmap callbacks.</summary>
internal sealed class RecordingAccessOps(bool needsPinPages = true) : IAccessOps
{
    public List<(Iova Iova, ulong Length)> UnmapRequests { get; } = new();

    public bool IgnoreUnmap { get; set; }

    public bool NeedsPinPages { get; } = needsPinPages;

    public void Unmap(IommufdAccess access, Iova iova, ulong length)
    {
        UnmapRequests.Add((iova, length));
        if (IgnoreUnmap)
        {
            return;
        }

        foreach (var pin in access.Pins)
        {
            var last = pin.Iova.Value + (pin.Length - 1);
            if (pin.Iova.Value <= iova.Value + (length - 1) && iova.Value <= last)
            {
                access.UnpinPages(pin.Iova, pin.Length);
            }
        }
    }
}

public sealed class AccessTests : IDisposable
{
    private const IoasMapFlags FixedRw = IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite;
    private readonly CoreFixture _f = new();
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public AccessTests()
    {
        _ioas = _f.Context.AllocIoas();
        _va = _f.Process.Mm.Map(1UL << 20);
        _f.Process.MemlockLimit = 64UL << 20;
    }

    public void Dispose() => _f.Dispose();

    private (IommufdAccess Access, RecordingAccessOps Ops) AttachedAccess()
    {
        var ops = new RecordingAccessOps();
        var access = _f.Context.CreateAccess(ops);
        access.Attach(_ioas.Id);
        return (access, ops);
    }

    [Fact]
    public void An_ioas_used_by_an_access_cannot_be_destroyed()
    {
        var (access, _) = AttachedAccess();

        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(_ioas.Id));
        // The access itself belongs to its driver: IOMMU_DESTROY cannot end it either.
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(access.Id));
        Assert.Equal(ObjectKind.Access, access.Kind);

        access.Destroy();
        Assert.True(access.IsDestroyed);
        _f.Context.Destroy(_ioas.Id);
        Assert.Equal(0, _f.Context.ObjectCount);
    }

    [Fact]
    public void Pin_pages_pins_each_frame_once_and_charges_the_user()
    {
        _ioas.Map(_va, 0x4000, FixedRw, new Iova(0x10000));
        var (access, _) = AttachedAccess();
        var frames = new PhysAddr[4];

        access.PinPages(new Iova(0x10000), 0x4000, frames, write: true);

        Assert.All(frames, frame => Assert.Equal(1, _f.Machine.Memory.PinCount(frame)));
        Assert.Equal(4, _f.Process.User.LockedVm);
        Assert.Equal(4, _f.Process.Mm.PinnedVm);
        Assert.True(_f.Process.Mm.TryGetFrame(_va + 0x2000, out var frame2));
        Assert.Equal(frame2, frames[2]);

        // A second pin of the same pages takes no new pin and no new charge.
        var again = new PhysAddr[1];
        access.PinPages(new Iova(0x11000), 0x1000, again, write: false);
        Assert.Equal(frames[1], again[0]);
        Assert.Equal(1, _f.Machine.Memory.PinCount(frames[1]));
        Assert.Equal(4, _f.Process.User.LockedVm);

        access.UnpinPages(new Iova(0x10000), 0x4000);
        Assert.Equal(1, _f.Machine.Memory.PinCount(frames[1]));
        Assert.Equal(0, _f.Machine.Memory.PinCount(frames[0]));
        access.UnpinPages(new Iova(0x11000), 0x1000);
        Assert.All(frames, frame => Assert.Equal(0, _f.Machine.Memory.PinCount(frame)));
        Assert.Equal(0, _f.Process.User.LockedVm);
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
    }

    [Fact]
    public void Pages_shared_by_copy_are_pinned_and_charged_once()
    {
        _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));
        _ioas.CopyFrom(_ioas, new Iova(0x10000), 0x2000, FixedRw, new Iova(0x40000));
        var (access, _) = AttachedAccess();
        var a = new PhysAddr[2];
        var b = new PhysAddr[2];

        access.PinPages(new Iova(0x10000), 0x2000, a, write: false);
        access.PinPages(new Iova(0x40000), 0x2000, b, write: false);

        Assert.Equal(a, b);
        Assert.Equal(2, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Pin_checks_follow_the_kernel()
    {
        _ioas.Map(_va, 0x2000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x10000));
        _ioas.Map(_va + 0x10, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0x30010));
        var unattached = _f.Context.CreateAccess(new RecordingAccessOps(needsPinPages: false));
        // An access that does not declare needs_pin_pages leaves the alignment at 1, so a sub-page mapping can
        // exist; pin_pages on it is still refused.
        var access = _f.Context.CreateAccess(new RecordingAccessOps(needsPinPages: false));
        access.Attach(_ioas.Id);
        var frames = new PhysAddr[4];

        ErrnoAssert.Throws(Errno.ENOENT, () => unattached.PinPages(new Iova(0x10000), 0x1000, frames, write: false));
        ErrnoAssert.Throws(Errno.EINVAL, () => access.PinPages(new Iova(0x10000), 0, frames, write: false));
        ErrnoAssert.Throws(Errno.EOVERFLOW, () => access.PinPages(new Iova(ulong.MaxValue), 2, frames, write: false));
        ErrnoAssert.Throws(Errno.ENOENT, () => access.PinPages(new Iova(0x11000), 0x2000, frames, write: false));
        ErrnoAssert.Throws(Errno.EPERM, () => access.PinPages(new Iova(0x10000), 0x1000, frames, write: true));
        ErrnoAssert.Throws(Errno.EINVAL, () => access.PinPages(new Iova(0x30010), 0x1000, frames, write: true));
        Assert.Empty(access.Pins);
        Assert.Equal(0, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Over_the_memlock_limit_is_ENOMEM_and_nothing_is_pinned()
    {
        _f.Process.MemlockLimit = 0x3000;
        _ioas.Map(_va, 0x4000, FixedRw, new Iova(0x10000));
        var (access, _) = AttachedAccess();
        var frames = new PhysAddr[4];

        ErrnoAssert.Throws(Errno.ENOMEM, () => access.PinPages(new Iova(0x10000), 0x4000, frames, write: true));

        Assert.Empty(access.Pins);
        Assert.Equal(0, _f.Process.User.LockedVm);
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        access.PinPages(new Iova(0x10000), 0x3000, frames, write: true);
        Assert.Equal(3, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Pinning_unmapped_user_memory_is_EFAULT_and_leaves_no_pin()
    {
        _ioas.Map(0x7000_0000_0000, 0x2000, FixedRw, new Iova(0x10000)); // nothing mapped at that VA
        var (access, _) = AttachedAccess();

        ErrnoAssert.Throws(Errno.EFAULT, () => access.PinPages(new Iova(0x10000), 0x2000, new PhysAddr[2], write: false));
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Unmap_asks_the_access_to_unpin_and_then_succeeds()
    {
        _ioas.Map(_va, 0x4000, FixedRw, new Iova(0x10000));
        var (access, ops) = AttachedAccess();
        var frames = new PhysAddr[2];
        access.PinPages(new Iova(0x11000), 0x2000, frames, write: true);

        Assert.Equal(0x4000ul, _ioas.Unmap(new Iova(0x10000), 0x4000));

        Assert.Equal([(new Iova(0x10000), 0x4000ul)], ops.UnmapRequests);
        Assert.Empty(access.Pins);
        Assert.Equal(0, _f.Machine.Memory.PinCount(frames[0]));
        Assert.Equal(0, _f.Process.User.LockedVm);
    }

    [Fact]
    public void An_access_that_never_unpins_makes_unmap_EDEADLK()
    {
        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        var (access, ops) = AttachedAccess();
        access.PinPages(new Iova(0x10000), 0x1000, new PhysAddr[1], write: true);
        ops.IgnoreUnmap = true;

        ErrnoAssert.Throws(Errno.EDEADLK, () => _ioas.Unmap(new Iova(0x10000), 0x1000));
        Assert.Equal(101, ops.UnmapRequests.Count); // the kernel asks 101 times before giving up
        Assert.Equal(1, _ioas.AreaCount);
        // While the unmap is pending, new pins on the area are refused.
        ErrnoAssert.Throws(Errno.EINVAL, () => access.PinPages(new Iova(0x10000), 0x1000, new PhysAddr[1], write: true));
    }

    [Fact]
    public void Closing_the_context_returns_pins_even_of_an_access_that_ignores_unmap()
    {
        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        var (access, ops) = AttachedAccess();
        var frame = new PhysAddr[1];
        access.PinPages(new Iova(0x10000), 0x1000, frame, write: true);
        ops.IgnoreUnmap = true;

        _f.Context.Dispose();

        Assert.True(access.IsDestroyed);
        Assert.Equal(0, _f.Machine.Memory.PinCount(frame[0]));
        Assert.Equal(0, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Read_and_write_go_through_the_ioas_to_the_users_memory()
    {
        _f.Process.Mm.Write(_va + 0xffe, "hello"u8);
        _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));
        var (access, _) = AttachedAccess();

        var buffer = new byte[5];
        access.Read(new Iova(0x10ffe), buffer);
        Assert.Equal("hello"u8.ToArray(), buffer);

        access.Write(new Iova(0x10ffe), "HELLO"u8);
        var back = new byte[5];
        _f.Process.Mm.Read(_va + 0xffe, back);
        Assert.Equal("HELLO"u8.ToArray(), back);
        // rw pins only for the copy.
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
    }

    [Fact]
    public void An_access_that_pins_raises_the_alignment_and_refuses_unaligned_mappings()
    {
        _ioas.Map(_va + 0x10, 0x100, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x10010));
        var access = _f.Context.CreateAccess(new RecordingAccessOps());

        ErrnoAssert.Throws(Errno.EADDRINUSE, () => access.Attach(_ioas.Id));
        _ioas.UnmapAll();
        access.Attach(_ioas.Id);
        Assert.Equal(AddressMath.PageSize, _ioas.IovaAlignment);
        ErrnoAssert.Throws(Errno.EINVAL, () => access.Attach(_ioas.Id));
        access.Detach();
        Assert.Equal(1ul, _ioas.IovaAlignment);
    }

    [Fact]
    public void Replace_unpins_on_the_old_ioas()
    {
        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        var other = _f.Context.AllocIoas();
        var (access, ops) = AttachedAccess();
        access.PinPages(new Iova(0x10000), 0x1000, new PhysAddr[1], write: false);

        access.Replace(other.Id);

        Assert.Same(other, access.Ioas);
        Assert.Empty(access.Pins);
        Assert.Single(ops.UnmapRequests);
        Assert.Equal(0, _f.Process.User.LockedVm);
        _f.Context.Destroy(_ioas.Id); // no longer referenced
        ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.CreateAccess(new RecordingAccessOps()).Replace(other.Id));
    }

    [Fact]
    public void Closing_the_context_returns_every_pin_and_charge()
    {
        _ioas.Map(_va, 0x8000, FixedRw, new Iova(0x10000));
        var (access, _) = AttachedAccess();
        var frames = new PhysAddr[8];
        access.PinPages(new Iova(0x10000), 0x8000, frames, write: true);

        _f.Context.Dispose();

        Assert.True(access.IsDestroyed);
        Assert.All(frames, frame => Assert.Equal(0, _f.Machine.Memory.PinCount(frame)));
        Assert.Equal(0, _f.Process.User.LockedVm);
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
    }

    [Fact]
    public void Mm_mode_charges_the_mm_and_cap_ipc_lock_charges_nothing()
    {
        using var mmContext = new IommufdContext(_f.Process, openedAsVfioContainer: true);
        var ioas = mmContext.AllocIoas();
        ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));
        var access = mmContext.CreateAccess(new RecordingAccessOps());
        access.Attach(ioas.Id);
        access.PinPages(new Iova(0x10000), 0x2000, new PhysAddr[2], write: false);
        Assert.Equal(2, _f.Process.Mm.LockedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);

        _f.Process.CapIpcLock = true;
        ioas.Map(_va + 0x2000, 0x1000, FixedRw, new Iova(0x20000));
        access.PinPages(new Iova(0x20000), 0x1000, new PhysAddr[1], write: false);
        Assert.Equal(2, _f.Process.Mm.LockedVm);
        Assert.Equal(3, _f.Process.Mm.PinnedVm);
    }
}
