using Ioasid.Core.Uapi;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>The mock-device subset of IOMMU_TEST_CMD, as the kernel selftests drive it.</summary>
public sealed class SelftestTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly UapiRig _rig = new();

    public void Dispose() => _rig.Dispose();

    private Errno Test(ref IommuTestCmd cmd) => _rig.Ioctl(IoctlNumbers.IommuTestCmd, ref cmd);

    [Fact]
    public void Mock_domain_creates_a_bound_attached_device_and_destroying_it_removes_everything()
    {
        var ioas = _rig.AllocIoas();
        var devices = _rig.Core.Devices.Count;
        var mock = _rig.MockDomainOk(ioas);
        Assert.True(mock.OutStdevId < mock.OutIdevId);
        Assert.Equal(devices + 1, _rig.Core.Devices.Count);
        var second = _rig.MockDomainOk(ioas);
        Assert.Equal(mock.OutHwptId, second.OutHwptId); // compatible devices share the automatic HWPT
        Assert.Equal(Errno.None, _rig.Destroy(mock.OutStdevId));
        Assert.Equal(Errno.None, _rig.Destroy(second.OutStdevId));
        Assert.Equal(devices, _rig.Core.Devices.Count);
        Assert.Equal(1, _rig.File.Context.ObjectCount);
    }

    [Fact]
    public void Mock_domain_errors_leave_no_device_behind()
    {
        var ioas = _rig.AllocIoas();
        var devices = _rig.Core.Devices.Count;
        Assert.Equal(Errno.EINVAL, _rig.MockDomain(ioas, out _, devFlags: 0x100));
        Assert.Equal(Errno.ENOENT, _rig.MockDomain(ioas + 5, out _));
        Assert.Equal(Errno.ENOENT, _rig.MockDomain(0, out _));
        Assert.Equal(devices, _rig.Core.Devices.Count);
        Assert.Equal(1, _rig.File.Context.ObjectCount);
        Assert.Equal(2u, _rig.AllocIoas()); // the failed creations released their ids
    }

    [Fact]
    public void Mock_domain_replace_moves_the_device_to_another_ioas()
    {
        var first = _rig.AllocIoas();
        var second = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(first);
        var cmd = new IommuTestCmd { Op = MockSelftest.OpMockDomainReplace, Id = mock.OutStdevId };
        cmd.MockDomainReplace.PtId = second;
        Assert.Equal(Errno.None, Test(ref cmd));
        Assert.NotEqual(mock.OutHwptId, cmd.MockDomainReplace.PtId);
        Assert.Equal(Errno.ENOENT, _rig.Destroy(mock.OutHwptId));
        cmd.MockDomainReplace.PtId = 99;
        Assert.Equal(Errno.ENOENT, Test(ref cmd));
        cmd.Id = first;
        Assert.Equal(Errno.ENOENT, Test(ref cmd)); // not a selftest object
    }

    [Fact]
    public void Check_map_and_check_refs_report_mismatches_with_EINVAL_and_EIO()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(ioas, va, 2 * Page);
        Assert.Equal(Errno.None, _rig.CheckMap(mock.OutHwptId, iova, 2 * Page, va));
        Assert.Equal(Errno.EINVAL, _rig.CheckMap(mock.OutHwptId, iova + 8, Page, va));
        Assert.Equal(Errno.EINVAL, _rig.CheckMap(mock.OutHwptId, iova + 2 * Page, Page, va));
        Assert.Equal(Errno.ENOENT, _rig.CheckMap(ioas, iova, Page, va));
        Assert.Equal(Errno.EFAULT, _rig.CheckMap(mock.OutHwptId, iova, Page, 0x2000));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 2 * Page, 1));
        Assert.Equal(Errno.EIO, _rig.CheckRefs(va, 2 * Page, 2));
        Assert.Equal(Errno.EINVAL, _rig.CheckRefs(va + 1, Page, 1));
        Assert.Equal(Errno.None, _rig.Unmap(ioas, iova, 2 * Page, out _));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 2 * Page, 0));
    }

    [Fact]
    public void Unknown_test_op_is_EOPNOTSUPP()
    {
        var cmd = new IommuTestCmd { Op = 999 };
        Assert.Equal(Errno.EOPNOTSUPP, Test(ref cmd));
    }

    [Fact]
    public void Add_reserved_blocks_a_fixed_map()
    {
        var ioas = _rig.AllocIoas();
        var cmd = new IommuTestCmd { Op = MockSelftest.OpAddReserved, Id = ioas };
        cmd.AddReserved = new IommuTestCmdAddReserved { Start = 0x10_0000, Length = Page };
        Assert.Equal(Errno.None, Test(ref cmd));
        Assert.Equal(Errno.EINVAL, _rig.Map(ioas, _rig.Buffer(Page), Page, out _, flags: 7, fixedIova: 0x10_0000));
    }

    // ---- accesses ----

    private int CreateAccess(uint ioas, uint flags = MockSelftest.AccessCreateNeedsPinPages)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpCreateAccess, Id = ioas };
        cmd.CreateAccess.Flags = flags;
        Assert.Equal(Errno.None, Test(ref cmd));
        return (int)cmd.CreateAccess.OutAccessFd;
    }

    private Errno AccessPages(int fd, ulong iova, ulong length, ulong uptr, out uint item, uint flags = 0)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpAccessPages, Id = (uint)fd };
        cmd.AccessPages = new IommuTestCmdAccessPages { Flags = flags, Iova = iova, Length = length, Uptr = uptr };
        var rc = Test(ref cmd);
        item = cmd.AccessPages.OutAccessPagesId;
        return rc;
    }

    private Errno AccessRw(int fd, ulong iova, ulong length, ulong uptr, uint flags)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpAccessRw, Id = (uint)fd };
        cmd.AccessRw = new IommuTestCmdAccessRw { Iova = iova, Length = length, Uptr = uptr, Flags = flags };
        return Test(ref cmd);
    }

    private Errno DestroyItem(int fd, uint item)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpDestroyAccessPages, Id = (uint)fd };
        cmd.DestroyAccessPages.AccessPagesId = item;
        return Test(ref cmd);
    }

    [Fact]
    public void Access_pins_pages_until_the_item_is_destroyed()
    {
        var ioas = _rig.AllocIoas();
        var va = _rig.Buffer(4 * Page);
        var iova = _rig.MapOk(ioas, va, 4 * Page);
        var fd = CreateAccess(ioas);
        Assert.Equal(Errno.None, AccessPages(fd, iova + Page, 2 * Page, va + Page, out var item));
        Assert.Equal(Errno.None, _rig.CheckRefs(va + Page, 2 * Page, 1));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, Page, 0));
        Assert.Equal(Errno.ENOENT, DestroyItem(fd, item + 1));
        Assert.Equal(Errno.None, DestroyItem(fd, item));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 4 * Page, 0));
    }

    [Fact]
    public void Unmapping_a_pinned_range_calls_the_access_back_and_closing_its_fd_destroys_it()
    {
        var ioas = _rig.AllocIoas();
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(ioas, va, 2 * Page);
        var fd = CreateAccess(ioas);
        Assert.Equal(Errno.None, AccessPages(fd, iova, Page, va, out _));
        Assert.Equal(Errno.EBUSY, _rig.Destroy(ioas));
        Assert.Equal(Errno.None, _rig.Unmap(ioas, iova, 2 * Page, out _));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 2 * Page, 0));
        Assert.Equal(Errno.None, _rig.Files.Close(fd));
        Assert.Equal(Errno.None, _rig.Destroy(ioas));
    }

    [Fact]
    public void Access_errors_are_EOPNOTSUPP_EBADFD_ENOMEM_EBADE_ENOENT()
    {
        var ioas = _rig.AllocIoas();
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(ioas, va, 2 * Page);
        var bad = new IommuTestCmd { Op = MockSelftest.OpCreateAccess, Id = ioas };
        bad.CreateAccess.Flags = 2;
        Assert.Equal(Errno.EOPNOTSUPP, Test(ref bad));
        bad.CreateAccess.Flags = 0;
        bad.Id = 77;
        var files = _rig.Files.Count;
        Assert.Equal(Errno.ENOENT, Test(ref bad));
        Assert.Equal(files, _rig.Files.Count);

        var fd = CreateAccess(ioas);
        Assert.Equal(Errno.EBADFD, AccessPages(_rig.Fd, iova, Page, 0, out _));
        Assert.Equal(Errno.EBADFD, AccessPages(1234, iova, Page, 0, out _));
        Assert.Equal(Errno.ENOMEM, AccessPages(fd, iova, (16UL << 20) + 1, 0, out _));
        Assert.Equal(Errno.EOPNOTSUPP, AccessPages(fd, iova, Page, 0, out _, flags: 2));
        Assert.Equal(Errno.EBADE, AccessPages(fd, iova, Page, va + Page, out _));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 2 * Page, 0)); // the failed check unpinned
        Assert.Equal(Errno.ENOENT, AccessPages(fd, iova + 2 * Page, Page, 0, out _));
        Assert.Equal(Errno.EINVAL, AccessPages(fd, iova, 0, 0, out _));

        var noPin = CreateAccess(ioas, flags: 0);
        Assert.Equal(Errno.EOPNOTSUPP, AccessPages(noPin, iova, Page, 0, out _));
    }

    [Fact]
    public void Access_rw_copies_through_the_ioas()
    {
        var ioas = _rig.AllocIoas();
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(ioas, va, 2 * Page);
        var fd = CreateAccess(ioas, flags: 0);
        var scratch = _rig.Process.Mm.Map(Page);
        _rig.Process.Mm.Write(scratch, "written by the access"u8);
        Assert.Equal(Errno.None, AccessRw(fd, iova + 100, 21, scratch, MockSelftest.AccessWrite));
        var back = new byte[21];
        _rig.Process.Mm.Read(va + 100, back);
        Assert.Equal("written by the access"u8.ToArray(), back);

        Assert.Equal(Errno.None, AccessRw(fd, iova + Page, 16, scratch + 64, 0));
        var expected = new byte[16];
        _rig.Process.Mm.Read(va + Page, expected);
        var read = new byte[16];
        _rig.Process.Mm.Read(scratch + 64, read);
        Assert.Equal(expected, read);

        Assert.Equal(Errno.EFAULT, AccessRw(fd, iova, 16, 0x3000, MockSelftest.AccessWrite));
        Assert.Equal(Errno.EOPNOTSUPP, AccessRw(fd, iova, 16, scratch, 2));
        Assert.Equal(Errno.EBADFD, AccessRw(999, iova, 16, scratch, 0));
        Assert.Equal(Errno.ENOENT, AccessRw(fd, iova + 2 * Page, 16, scratch, 0));
    }
}
