using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Drivers.Tests.Mock;

/// <summary>
/// HWPT_ALLOC flags on the mock (NEST_PARENT, DIRTY_TRACKING, PASID), dirty logging driven by real DMA writes that
/// set the D bit in the mock's page table, and GET_HW_INFO's selftest blob (spec §3.11–3.14, §8.3).
/// </summary>
public sealed class MockDirtyTrackingTests : IDisposable
{
    private const ulong Page = 0x1000;
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _iommufd;
    private readonly IommuCore _core = new();
    private readonly MockIommuDriver _driver;
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public MockDirtyTrackingTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        _driver = new MockIommuDriver(_core, _machine.Memory);
        _core.RegisterDriver(_driver.Ops);
        _ioas = _iommufd.AllocIoas();
        _va = _process.Mm.Map(4UL << 20);
    }

    public void Dispose() => _iommufd.Dispose();

    private IommufdDevice Bind(string name, byte bus) =>
        _iommufd.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, pasidBits: 8)));

    private DmaResult Write(IommufdDevice device, Iova iova, int length) =>
        _driver.Hardware.Dma(DmaRequest.ForWrite(device.Device.Rid, iova, (ulong)length), new byte[length]);

    private DmaResult Read(IommufdDevice device, Iova iova, int length) =>
        _driver.Hardware.Dma(DmaRequest.ForRead(device.Device.Rid, iova, (ulong)length), new byte[length]);

    [Fact]
    public void Dma_writes_are_logged_once_tracking_is_on_and_reading_clears_them()
    {
        var nic = Bind("nic", 1);
        var hwpt = _iommufd.AllocHwptPaging(nic, _ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var iova = _ioas.Map(_va, 16 * Page, IoasMapFlags.ReadWrite);
        Assert.True(Write(nic, iova, 8).IsSuccess); // before tracking: not logged

        hwpt.SetDirtyTracking(true);
        Assert.True(Write(nic, iova + (3 * Page), 8).IsSuccess);
        Assert.True(Write(nic, iova + (9 * Page) + 0xff8, 16).IsSuccess); // crosses into page 10
        Assert.True(Read(nic, iova + (5 * Page), 8).IsSuccess); // reads are not logged
        Assert.True(Write(nic, iova + (3 * Page) + 8, 8).IsSuccess); // again, through the cached entry

        var bitmap = new ulong[1];
        hwpt.ReadAndClearDirty(iova, 16 * Page, Page, bitmap, noClear: true);
        Assert.Equal((1UL << 3) | (1UL << 9) | (1UL << 10), bitmap[0]);

        var again = new ulong[1];
        hwpt.ReadAndClearDirty(iova, 16 * Page, Page, again);
        Assert.Equal(bitmap[0], again[0]); // NO_CLEAR left them

        var cleared = new ulong[1];
        hwpt.ReadAndClearDirty(iova, 16 * Page, Page, cleared);
        Assert.Equal(0UL, cleared[0]);

        // The IOTLB was invalidated with the clear, so a write through a once-cached entry is logged again.
        Assert.True(Write(nic, iova + (3 * Page), 8).IsSuccess);
        var after = new ulong[1];
        hwpt.ReadAndClearDirty(iova, 16 * Page, Page, after);
        Assert.Equal(1UL << 3, after[0]);
    }

    [Fact]
    public void Enabling_tracking_starts_from_an_empty_log_and_disabling_stops_logging()
    {
        var nic = Bind("nic", 1);
        var hwpt = _iommufd.AllocHwptPaging(nic, _ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var iova = _ioas.Map(_va, 4 * Page, IoasMapFlags.ReadWrite);
        hwpt.SetDirtyTracking(true);
        Assert.True(Write(nic, iova, 8).IsSuccess);

        hwpt.SetDirtyTracking(false);
        Assert.True(Write(nic, iova + Page, 8).IsSuccess);
        hwpt.SetDirtyTracking(true); // clears what was logged before

        var bitmap = new ulong[1];
        hwpt.ReadAndClearDirty(iova, 4 * Page, Page, bitmap);
        Assert.Equal(0UL, bitmap[0]);
        Assert.True(hwpt.IsDirtyTracking);
    }

    [Fact]
    public void A_dirty_2M_leaf_reports_every_page_it_covers_within_the_range()
    {
        var nic = Bind("nic", 1);
        var hwpt = _iommufd.AllocHwptPaging(nic, _ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var va = _process.Mm.Map(4UL << 20, hugePages: true);
        var iova = _ioas.Map(va, 4UL << 20, IoasMapFlags.ReadWrite);
        Assert.Equal(0UL, iova.Value & ((2UL << 20) - 1));
        var walk = _driver.Hardware.Walk(((MockPagingDomain)hwpt.Domain).Root, iova, out var leaf, out _);
        Assert.Equal(FaultReason.None, walk);
        Assert.Equal(21, leaf.PageShift); // huge-page memory is contiguous: one 2 MiB leaf
        hwpt.SetDirtyTracking(true);

        Assert.True(Write(nic, iova + 0x1234, 4).IsSuccess);

        var bitmap = new ulong[1];
        hwpt.ReadAndClearDirty(iova + (64 * Page), 64 * Page, Page, bitmap); // a window inside the 2 MiB leaf
        Assert.Equal(ulong.MaxValue, bitmap[0]);
    }

    [Fact]
    public void Dirty_tracking_errors_are_the_kernels()
    {
        var nic = Bind("nic", 1);
        var noDirty = Bind("old", 2);
        _driver.DevicesWithoutDirtyTracking.Add(noDirty.Device.Rid);
        var plain = _iommufd.AllocHwptPaging(nic, _ioas.Id);
        var dirty = _iommufd.AllocHwptPaging(nic, _ioas.Id, HwptAllocFlags.DirtyTracking);
        var iova = _ioas.Map(_va, 4 * Page, IoasMapFlags.ReadWrite);

        ErrnoAssert(Errno.EOPNOTSUPP, () => _iommufd.AllocHwptPaging(noDirty, _ioas.Id, HwptAllocFlags.DirtyTracking));
        ErrnoAssert(Errno.EINVAL, () => noDirty.Attach(dirty.Id)); // the domain refuses a device that cannot track
        ErrnoAssert(Errno.EOPNOTSUPP, () => plain.SetDirtyTracking(true));
        ErrnoAssert(Errno.EOPNOTSUPP, () => plain.ReadAndClearDirty(iova, Page, Page, new ulong[1]));
        ErrnoAssert(Errno.EINVAL, () => dirty.ReadAndClearDirty(iova, Page, Page, new ulong[1])); // mock: tracking is off

        dirty.SetDirtyTracking(true);
        var bits = new ulong[1];
        ErrnoAssert(Errno.EOVERFLOW, () => dirty.ReadAndClearDirty(new Iova(ulong.MaxValue - 0xfff), 0x2000, Page, bits));
        ErrnoAssert(Errno.EINVAL, () => dirty.ReadAndClearDirty(iova, Page, 0, bits));
        ErrnoAssert(Errno.EINVAL, () => dirty.ReadAndClearDirty(iova, Page, 0x2000, bits)); // range not page-size aligned
        ErrnoAssert(Errno.EINVAL, () => dirty.ReadAndClearDirty(iova, 8 * Page, Page, bits)); // runs past the mapping
        ErrnoAssert(Errno.EINVAL, () => dirty.ReadAndClearDirty(iova + 1, Page, Page, bits));
    }

    [Fact]
    public void The_mock_takes_nest_parent_and_pasid_flags_but_no_driver_data()
    {
        var gpu = Bind("gpu", 1);

        var parent = _iommufd.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent | HwptAllocFlags.Pasid);

        Assert.Equal(HwptAllocFlags.NestParent | HwptAllocFlags.Pasid, ((MockPagingDomain)parent.Domain).Flags);
        Assert.False(parent.Domain.HasDirtyOps);
        ErrnoAssert(Errno.EOPNOTSUPP, () => _iommufd.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.None, 0xdead, new byte[8]));
        // The mock has no nested domains: the kernel's answer for a driver without domain_alloc_nested.
        ErrnoAssert(Errno.EOPNOTSUPP, () => _iommufd.AllocHwptNested(gpu, parent.Id, 0, 0xdead, new byte[8]));
    }

    [Fact]
    public void Hw_info_is_the_selftest_blob_with_the_dirty_capability()
    {
        var gpu = Bind("gpu", 1);

        var info = gpu.GetHwInfo();

        Assert.Equal(MockIommuDriver.HwInfoType, info.Type);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde }, info.Data);
        Assert.Equal(HwInfoCapabilities.DirtyTracking, info.Capabilities);
        Assert.Equal(8, info.MaxPasidLog2); // pasidBits: 8
        Assert.Equal(MockIommuDriver.HwInfoType, gpu.GetHwInfo(MockIommuDriver.HwInfoType).Type);
        ErrnoAssert(Errno.EOPNOTSUPP, () => gpu.GetHwInfo(1));
    }

    private static void ErrnoAssert(Errno errno, Action action) => Assert.Equal(errno, Assert.Throws<IoasidException>(action).Errno);
}
