using Ioasid.Core.Uapi;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>IOMMU_DESTROY and the IOAS commands through raw ioctls: every success path and every errno iommufd.md lists.</summary>
public sealed class IoasCommandTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly UapiRig _rig = new();

    public void Dispose() => _rig.Dispose();

    // ---- IOMMU_IOAS_ALLOC / IOMMU_DESTROY ----

    [Fact]
    public void Ioas_alloc_returns_the_lowest_free_id_and_destroy_frees_it()
    {
        var first = _rig.AllocIoas();
        var second = _rig.AllocIoas();
        Assert.Equal(1u, first);
        Assert.Equal(2u, second);
        Assert.Equal(Errno.None, _rig.Destroy(first));
        Assert.Equal(1u, _rig.AllocIoas());
    }

    [Fact]
    public void Ioas_alloc_with_flags_is_EOPNOTSUPP_and_creates_nothing()
    {
        var cmd = new IommuIoasAlloc { Flags = 1 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuIoasAlloc, ref cmd));
        Assert.Equal(0u, cmd.OutIoasId);
        Assert.Equal(0, _rig.File.Context.ObjectCount);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(7u)]
    [InlineData(0x8000_0000u)]
    public void Destroy_of_a_missing_id_is_ENOENT(uint id) => Assert.Equal(Errno.ENOENT, _rig.Destroy(id));

    [Fact]
    public void Destroy_of_an_IOAS_a_HWPT_holds_is_EBUSY_and_of_the_selftest_device_frees_it()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        Assert.Equal(Errno.EBUSY, _rig.Destroy(ioas));
        Assert.Equal(Errno.EBUSY, _rig.Destroy(mock.OutHwptId));
        Assert.Equal(Errno.EBUSY, _rig.Destroy(mock.OutIdevId)); // still bound by its driver
        Assert.Equal(Errno.None, _rig.Destroy(mock.OutStdevId));
        Assert.Equal(Errno.ENOENT, _rig.Destroy(mock.OutHwptId)); // the automatic HWPT went with its last device
        Assert.Equal(Errno.None, _rig.Destroy(ioas));
        Assert.Equal(0, _rig.File.Context.ObjectCount);
    }

    // ---- IOMMU_IOAS_IOVA_RANGES ----

    [Fact]
    public void Iova_ranges_of_an_empty_IOAS_is_the_whole_space()
    {
        var ioas = _rig.AllocIoas();
        var array = _rig.Process.Mm.Map(Page);
        var cmd = new IommuIoasIovaRanges { IoasId = ioas, NumIovas = 4, AllowedIovas = array };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref cmd));
        Assert.Equal(1u, cmd.NumIovas);
        Assert.Equal(1ul, cmd.OutIovaAlignment);
        Assert.Equal(new[] { 0UL, ulong.MaxValue }, ReadU64s(array, 2));
    }

    [Fact]
    public void Iova_ranges_with_a_mock_domain_is_its_aperture_and_a_short_array_is_EMSGSIZE_with_the_count()
    {
        var ioas = _rig.AllocIoas();
        _rig.MockDomainOk(ioas);
        var array = _rig.Process.Mm.Map(Page);
        var cmd = new IommuIoasIovaRanges { IoasId = ioas, NumIovas = 0, AllowedIovas = array };
        Assert.Equal(Errno.EMSGSIZE, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref cmd));
        Assert.Equal(1u, cmd.NumIovas);
        Assert.Equal(Page, cmd.OutIovaAlignment);

        cmd.NumIovas = 1;
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref cmd));
        Assert.Equal(new[] { MockIommuDriver.ApertureStart, MockIommuDriver.ApertureLast }, ReadU64s(array, 2));
    }

    [Fact]
    public void Iova_ranges_errors_are_EOPNOTSUPP_ENOENT_and_EFAULT()
    {
        var ioas = _rig.AllocIoas();
        var reserved = new IommuIoasIovaRanges { IoasId = ioas, NumIovas = 1, Reserved = 1, AllowedIovas = _rig.Process.Mm.Map(Page) };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref reserved));
        var missing = new IommuIoasIovaRanges { IoasId = ioas + 1 };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref missing));
        var fault = new IommuIoasIovaRanges { IoasId = ioas, NumIovas = 1, AllowedIovas = 0x1000 };
        Assert.Equal(Errno.EFAULT, _rig.Ioctl(IoctlNumbers.IommuIoasIovaRanges, ref fault));
    }

    // ---- IOMMU_IOAS_ALLOW_IOVAS ----

    [Fact]
    public void Allow_iovas_steers_automatic_iovas_into_the_allowed_range()
    {
        var ioas = _rig.AllocIoas();
        var array = WriteRanges((0x4000_0000, 0x4fff_ffff));
        var cmd = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 1, AllowedIovas = array };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref cmd));
        var iova = _rig.MapOk(ioas, _rig.Buffer(Page), Page);
        Assert.InRange(iova, 0x4000_0000UL, 0x4fff_ffffUL);
    }

    [Fact]
    public void Allow_iovas_rejects_empty_and_overlapping_ranges_with_EINVAL()
    {
        var ioas = _rig.AllocIoas();
        var single = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 1, AllowedIovas = WriteRanges((0x5000, 0x5000)) };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref single));
        var overlap = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 2, AllowedIovas = WriteRanges((0x1000, 0x2fff), (0x2000, 0x4fff)) };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref overlap));
    }

    [Fact]
    public void Allow_iovas_errors_are_EOPNOTSUPP_ENOENT_EFAULT_and_EADDRINUSE()
    {
        var ioas = _rig.AllocIoas();
        var reserved = new IommuIoasAllowIovas { IoasId = ioas, Reserved = 2 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref reserved));
        var missing = new IommuIoasAllowIovas { IoasId = 99 };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref missing));
        var fault = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 1, AllowedIovas = 8 };
        Assert.Equal(Errno.EFAULT, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref fault));

        _rig.MockDomainOk(ioas); // reserves everything outside the aperture
        var inUse = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 1, AllowedIovas = WriteRanges((0x1000, 0x1fff)) };
        Assert.Equal(Errno.EADDRINUSE, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref inUse));
    }

    // ---- IOMMU_IOAS_MAP ----

    [Fact]
    public void Map_fixed_and_automatic_iovas_reach_the_mock_domain()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var va = _rig.Buffer(4 * Page);
        var auto = _rig.MapOk(ioas, va, 2 * Page);
        Assert.InRange(auto, MockIommuDriver.ApertureStart, MockIommuDriver.ApertureLast);
        var fixedIova = _rig.MapOk(ioas, va + 2 * Page, 2 * Page, flags: 7, fixedIova: 0x0100_0000_0UL);
        Assert.Equal(0x0100_0000_0UL, fixedIova);
        Assert.Equal(Errno.None, _rig.CheckMap(mock.OutHwptId, auto, 2 * Page, va));
        Assert.Equal(Errno.None, _rig.CheckMap(mock.OutHwptId, fixedIova, 2 * Page, va + 2 * Page));
        Assert.Equal(Errno.EINVAL, _rig.CheckMap(mock.OutHwptId, auto, 2 * Page, va + Page));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 4 * Page, 1));
    }

    [Theory]
    [InlineData(8u, 0u, 0x1000ul, 0ul, Errno.EOPNOTSUPP)]          // unknown flag
    [InlineData(6u, 1u, 0x1000ul, 0ul, Errno.EOPNOTSUPP)]          // __reserved
    [InlineData(7u, 0u, 0x1000ul, ulong.MaxValue, Errno.EOVERFLOW)] // iova = ULONG_MAX
    [InlineData(6u, 0u, ulong.MaxValue, 0ul, Errno.EOVERFLOW)]      // length = ULONG_MAX
    [InlineData(1u, 0u, 0x1000ul, 0ul, Errno.EINVAL)]               // neither READABLE nor WRITEABLE
    [InlineData(6u, 0u, 0ul, 0ul, Errno.EINVAL)]                    // length 0
    public void Map_checks_flags_and_sizes_in_the_kernel_order(uint flags, uint reserved, ulong length, ulong iova, Errno expected)
    {
        // IOAS 42 does not exist: the errors above come before the IOAS lookup, except length 0 which comes after.
        var ioas = expected == Errno.EINVAL && length == 0 ? _rig.AllocIoas() : 42u;
        var cmd = new IommuIoasMap { Flags = flags, Reserved = reserved, IoasId = ioas, UserVa = 0x10000, Length = length, Iova = iova };
        Assert.Equal(expected, _rig.Ioctl(IoctlNumbers.IommuIoasMap, ref cmd));
    }

    [Fact]
    public void Map_errors_after_the_lookup_are_ENOENT_EOVERFLOW_EEXIST_EINVAL_ENOSPC()
    {
        Assert.Equal(Errno.ENOENT, _rig.Map(9, 0x10000, Page, out _));
        var ioas = _rig.AllocIoas();
        Assert.Equal(Errno.EOVERFLOW, _rig.Map(ioas, ulong.MaxValue - 10, Page, out _));
        var va = _rig.Buffer(2 * Page);
        _rig.MapOk(ioas, va, Page, flags: 7, fixedIova: 0x0200_0000);
        Assert.Equal(Errno.EEXIST, _rig.Map(ioas, va, Page, out _, flags: 7, fixedIova: 0x0200_0000));
        Assert.Equal(Errno.EOVERFLOW, _rig.Map(ioas, va, 2 * Page, out _, flags: 7, fixedIova: ulong.MaxValue - Page));

        _rig.MockDomainOk(ioas);
        Assert.Equal(Errno.EINVAL, _rig.Map(ioas, va, Page, out _, flags: 7, fixedIova: 0x20_0000)); // below the aperture: reserved
        Assert.Equal(Errno.EINVAL, _rig.Map(ioas, va, 100, out _));                               // length not 4 KiB aligned
        Assert.Equal(Errno.EINVAL, _rig.Map(ioas, va, Page, out _, flags: 7, fixedIova: 0x0100_0010)); // iova misaligned

        var small = new IommuIoasAllowIovas { IoasId = ioas, NumIovas = 1, AllowedIovas = WriteRanges((0x0100_0000, 0x0100_0fff)) };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasAllowIovas, ref small));
        Assert.Equal(Errno.ENOSPC, _rig.Map(ioas, va, 2 * Page, out _));
    }

    [Fact]
    public void Map_with_a_domain_pins_now_so_a_bad_va_is_EFAULT_and_the_memlock_limit_is_ENOMEM()
    {
        using var rig = new UapiRig(memlock: 2 * Page);
        var ioas = rig.AllocIoas();
        rig.MockDomainOk(ioas);
        Assert.Equal(Errno.EFAULT, rig.Map(ioas, 0x10_0000, Page, out _));
        Assert.Equal(Errno.ENOMEM, rig.Map(ioas, rig.Buffer(4 * Page), 4 * Page, out _));
        Assert.Equal(0, rig.Process.Mm.PinnedVm);
    }

    // ---- IOMMU_IOAS_MAP_FILE ----

    [Fact]
    public void Map_file_maps_memfd_pages_and_checks_fd_and_range()
    {
        var memfd = _rig.Machine.CreateMemFd("guest", 4 * Page);
        memfd.Write(0, "file bytes"u8);
        var fd = _rig.Files.Install(memfd);
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var cmd = new IommuIoasMapFile { Flags = 6, IoasId = ioas, Fd = fd, Start = 0, Length = 2 * Page };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref cmd));
        Assert.InRange(cmd.Iova, MockIommuDriver.ApertureStart, MockIommuDriver.ApertureLast);

        var view = _rig.Process.Mm.MapFile(memfd, 0, 2 * Page);
        Assert.Equal(Errno.None, _rig.CheckMap(mock.OutHwptId, cmd.Iova, 2 * Page, view));

        var badFd = cmd with { Fd = 99, Iova = 0 };
        Assert.Equal(Errno.EBADF, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref badFd));
        var pastEnd = cmd with { Start = 3 * Page, Iova = 0 };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref pastEnd));
        var flags = cmd with { Flags = 0x10 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref flags));
        var noProt = cmd with { Flags = 0 };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref noProt));
        var ioasMissing = cmd with { IoasId = 77 };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuIoasMapFile, ref ioasMissing));
    }

    // ---- IOMMU_IOAS_COPY ----

    [Fact]
    public void Copy_shares_pages_across_IOASes_and_pins_them_once()
    {
        var src = _rig.AllocIoas();
        var dst = _rig.AllocIoas();
        var srcMock = _rig.MockDomainOk(src);
        var dstMock = _rig.MockDomainOk(dst);
        var va = _rig.Buffer(4 * Page);
        var a = _rig.MapOk(src, va, 2 * Page);
        _rig.MapOk(src, va + 2 * Page, 2 * Page, flags: 7, fixedIova: a + 2 * Page);

        // A sub-range spanning both source mappings.
        var cmd = new IommuIoasCopy { Flags = 6, DstIoasId = dst, SrcIoasId = src, Length = 2 * Page, SrcIova = a + Page };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasCopy, ref cmd));
        Assert.Equal(Errno.None, _rig.CheckMap(dstMock.OutHwptId, cmd.DstIova, 2 * Page, va + Page));
        Assert.Equal(Errno.None, _rig.CheckMap(srcMock.OutHwptId, a, 4 * Page, va));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 4 * Page, 1));
    }

    [Fact]
    public void Copy_errors_follow_the_kernel_order()
    {
        var src = _rig.AllocIoas();
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(src, va, Page, flags: 4); // read-only
        IommuIoasCopy Cmd() => new() { Flags = 4, DstIoasId = src, SrcIoasId = src, Length = Page, SrcIova = iova };

        Errno Copy(IommuIoasCopy c) => _rig.Ioctl(IoctlNumbers.IommuIoasCopy, ref c);
        Assert.Equal(Errno.EOPNOTSUPP, Copy(Cmd() with { Flags = 0x14 }));
        Assert.Equal(Errno.EOVERFLOW, Copy(Cmd() with { SrcIova = ulong.MaxValue }));
        Assert.Equal(Errno.EINVAL, Copy(Cmd() with { Flags = 1 }));
        Assert.Equal(Errno.ENOENT, Copy(Cmd() with { SrcIoasId = 50 }));
        Assert.Equal(Errno.EINVAL, Copy(Cmd() with { Length = 0, DstIoasId = 50 }));
        Assert.Equal(Errno.ENOENT, Copy(Cmd() with { Length = 2 * Page, DstIoasId = 50 })); // source not fully mapped
        Assert.Equal(Errno.ENOENT, Copy(Cmd() with { DstIoasId = 50 }));
        Assert.Equal(Errno.EEXIST, Copy(Cmd() with { Flags = 5, DstIova = iova }));
        Assert.Equal(Errno.EPERM, Copy(Cmd() with { Flags = 6 }));
        Assert.Equal(Errno.None, Copy(Cmd()));
    }

    // ---- IOMMU_IOAS_UNMAP ----

    [Fact]
    public void Unmap_returns_the_bytes_removed_and_unmap_all_always_succeeds()
    {
        var ioas = _rig.AllocIoas();
        var va = _rig.Buffer(4 * Page);
        var a = _rig.MapOk(ioas, va, Page, flags: 7, fixedIova: 0x10_0000);
        _rig.MapOk(ioas, va + Page, Page, flags: 7, fixedIova: 0x10_3000);
        Assert.Equal(Errno.None, _rig.Unmap(ioas, a, 0x10_0000, out var unmapped));
        Assert.Equal(2 * Page, unmapped); // gaps are allowed
        Assert.Equal(Errno.None, _rig.Unmap(ioas, 0, ulong.MaxValue, out unmapped));
        Assert.Equal(0ul, unmapped);
    }

    [Fact]
    public void Unmap_errors_are_ENOENT_EINVAL_EOVERFLOW()
    {
        Assert.Equal(Errno.ENOENT, _rig.Unmap(5, 0, ulong.MaxValue, out _)); // the IOAS is looked up first
        var ioas = _rig.AllocIoas();
        _rig.MapOk(ioas, _rig.Buffer(2 * Page), 2 * Page, flags: 7, fixedIova: 0x10_0000);
        Assert.Equal(Errno.ENOENT, _rig.Unmap(ioas, 0x10_0000, Page, out _));     // cuts a mapping
        Assert.Equal(Errno.ENOENT, _rig.Unmap(ioas, 0x50_0000, Page, out _));     // nothing there
        Assert.Equal(Errno.EINVAL, _rig.Unmap(ioas, 0x10_0000, 0, out _));
        Assert.Equal(Errno.EOVERFLOW, _rig.Unmap(ioas, ulong.MaxValue, 1, out _));
        Assert.Equal(Errno.EOVERFLOW, _rig.Unmap(ioas, 3, ulong.MaxValue - 1, out _));
        Assert.Equal(Errno.None, _rig.Unmap(ioas, 0x10_0000, 2 * Page, out var unmapped));
        Assert.Equal(2 * Page, unmapped);
    }

    // ---- IOMMU_OPTION ----

    [Fact]
    public void Rlimit_mode_reads_user_and_changes_only_with_the_capability_on_an_empty_context()
    {
        Assert.Equal((Errno.None, 0ul), Option(0, 1, 0, 0));
        Assert.Equal((Errno.EPERM, 1ul), Option(0, 0, 0, 1));
        _rig.Process.CapSysResource = true;
        Assert.Equal((Errno.EINVAL, 2ul), Option(0, 0, 0, 2));
        Assert.Equal((Errno.None, 1ul), Option(0, 0, 0, 1));
        Assert.Equal((Errno.None, 1ul), Option(0, 1, 0, 0));
        _rig.AllocIoas();
        Assert.Equal((Errno.EBUSY, 0ul), Option(0, 0, 0, 0));
        Assert.Equal(Errno.EOPNOTSUPP, Option(0, 1, 3, 0).Errno);  // object_id must be 0
        Assert.Equal(Errno.EOPNOTSUPP, Option(0, 2, 0, 0).Errno);  // unknown op
        Assert.Equal(Errno.EOPNOTSUPP, Option(5, 1, 0, 0).Errno);  // unknown option
        Assert.Equal(Errno.EOPNOTSUPP, Option(0, 1, 0, 0, reserved: 1).Errno);
    }

    [Fact]
    public void Huge_pages_option_is_per_IOAS_with_ENOENT_EINVAL_EADDRINUSE()
    {
        var ioas = _rig.AllocIoas();
        Assert.Equal((Errno.None, 1ul), Option(1, 1, ioas, 0));
        Assert.Equal(Errno.ENOENT, Option(1, 1, 0, 0).Errno);
        Assert.Equal(Errno.EINVAL, Option(1, 0, ioas, 2).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Option(1, 9, ioas, 0).Errno);

        var va = _rig.Buffer(2 * Page);
        _rig.MapOk(ioas, va + 0x10, 0x100, flags: 7, fixedIova: 0x10_0010);
        Assert.Equal(Errno.EADDRINUSE, Option(1, 0, ioas, 0).Errno); // an unaligned mapping
        Assert.Equal(Errno.None, _rig.Unmap(ioas, 0, ulong.MaxValue, out _));
        Assert.Equal(Errno.None, Option(1, 0, ioas, 0).Errno);
        Assert.Equal((Errno.None, 0ul), Option(1, 1, ioas, 0));
        Assert.Equal(Errno.None, Option(1, 0, ioas, 1).Errno);

        _rig.MockDomainOk(ioas);
        _rig.MapOk(ioas, va, Page);
        Assert.Equal(Errno.EINVAL, Option(1, 0, ioas, 0).Errno); // a domain and a mapping
    }

    // ---- IOMMU_VFIO_IOAS ----

    [Fact]
    public void Vfio_ioas_get_set_clear_and_its_errors()
    {
        Assert.Equal(Errno.ENODEV, VfioIoas(0, 0).Errno);
        var ioas = _rig.AllocIoas();
        Assert.Equal(Errno.ENOENT, VfioIoas(1, ioas + 1).Errno);
        Assert.Equal(Errno.None, VfioIoas(1, ioas).Errno);
        Assert.Equal((Errno.None, ioas), VfioIoas(0, 0));
        Assert.Equal(Errno.None, VfioIoas(2, 0).Errno);
        Assert.Equal(Errno.ENODEV, VfioIoas(0, 0).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, VfioIoas(3, 0).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, VfioIoas(0, 0, reserved: 1).Errno);

        Assert.Equal(Errno.None, VfioIoas(1, ioas).Errno);
        Assert.Equal(Errno.None, _rig.Destroy(ioas)); // destroying the compat IOAS clears it
        Assert.Equal(Errno.ENODEV, VfioIoas(0, 0).Errno);
    }

    // ---- IOMMU_IOAS_CHANGE_PROCESS ----

    [Fact]
    public void Change_process_refuses_user_va_mappings_and_reserved_bits()
    {
        var cmd = new IommuIoasChangeProcess();
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuIoasChangeProcess, ref cmd));
        cmd = new IommuIoasChangeProcess { Reserved = 1 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuIoasChangeProcess, ref cmd));
        var ioas = _rig.AllocIoas();
        _rig.MapOk(ioas, _rig.Buffer(Page), Page);
        cmd = new IommuIoasChangeProcess();
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuIoasChangeProcess, ref cmd));
    }

    private (Errno Errno, ulong Val) Option(uint optionId, ushort op, uint objectId, ulong val, ushort reserved = 0)
    {
        var cmd = new IommuOption { OptionId = optionId, Op = op, ObjectId = objectId, Val64 = val, Reserved = reserved };
        var rc = _rig.Ioctl(IoctlNumbers.IommuOption, ref cmd);
        return (rc, cmd.Val64);
    }

    private (Errno Errno, uint Id) VfioIoas(ushort op, uint id, ushort reserved = 0)
    {
        var cmd = new IommuVfioIoas { Op = op, IoasId = id, Reserved = reserved };
        var rc = _rig.Ioctl(IoctlNumbers.IommuVfioIoas, ref cmd);
        return (rc, cmd.IoasId);
    }

    private ulong WriteRanges(params (ulong Start, ulong Last)[] ranges)
    {
        var va = _rig.Process.Mm.Map(Page);
        for (var i = 0; i < ranges.Length; i++)
        {
            var bytes = ExtensibleStruct.ToBytes(new IommuIovaRange { Start = ranges[i].Start, Last = ranges[i].Last });
            _rig.Process.Mm.Write(va + (ulong)(i * 16), bytes);
        }

        return va;
    }

    private ulong[] ReadU64s(ulong va, int count)
    {
        var bytes = new byte[count * 8];
        _rig.Process.Mm.Read(va, bytes);
        return Enumerable.Range(0, count).Select(i => BitConverter.ToUInt64(bytes, i * 8)).ToArray();
    }
}
