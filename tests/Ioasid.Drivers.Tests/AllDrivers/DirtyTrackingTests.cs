using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Mock;
using Ioasid.Drivers.Smmu;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.AllDrivers;

/// <summary>
/// Dirty tracking through iommufd (IOMMU_HWPT_ALLOC_DIRTY_TRACKING, SET_DIRTY_TRACKING, GET_DIRTY_BITMAP; spec
/// §3.11, §3.14), run unchanged over the mock, VT-d (second stage with SSADS) and SMMUv3 (stage 1 with HTTU): the
/// hardware model marks what DMA writes, the driver reads and clears it, the caller's IOTLB flush makes cleared
/// entries log again. Each rig also has a device whose IOMMU cannot track (a mock device flagged so, a VT-d unit
/// without SSADS, an SMMU without HTTU) for the errno cases.
/// </summary>
public sealed class DirtyTrackingTests
{
    private const ulong Page = 0x1000;

    public static TheoryData<string> Drivers => new() { "mock", "vtd", "smmuv3" };

    private sealed class Rig : IDisposable
    {
        public Rig(string driver)
        {
            Machine = new Machine(1UL << 30);
            Process = Machine.CreateProcess();
            Process.MemlockLimit = 64UL << 20;
            Context = new IommufdContext(Process);
            switch (driver)
            {
                case "mock":
                    var mock = new MockIommuDriver(Core, Machine.Memory);
                    mock.DevicesWithoutDirtyTracking.Add(Rid.Create(0x80, 0, 0));
                    Core.RegisterDriver(mock.Ops);
                    Hardware = mock.Hardware;
                    break;
                case "vtd":
                    var vtd = new VtdIommuDriver(Core, Machine.Memory);
                    Hardware = vtd.AddUnit("dmar0", new VtdCapabilities { SecondStageAccessDirty = true }, pci => pci.Rid.Bus < 0x80).Hardware;
                    vtd.AddUnit("dmar1", new VtdCapabilities(), pci => pci.Rid.Bus >= 0x80);
                    Core.RegisterDriver(vtd.Ops);
                    break;
                case "smmuv3":
                    var smmu = new SmmuV3Driver(Core, Machine.Memory, "smmu0", new IdRegisters { Httu = 2 }, claims: pci => pci.Rid.Bus < 0x80);
                    var old = new SmmuV3Driver(Core, Machine.Memory, "smmu1", new IdRegisters(), claims: pci => pci.Rid.Bus >= 0x80);
                    Core.RegisterDriver(smmu.Ops);
                    Core.RegisterDriver(old.Ops);
                    Hardware = smmu.Hardware;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(driver));
            }

            Ioas = Context.AllocIoas();
        }

        public Machine Machine { get; }
        public UserProcess Process { get; }
        public IommufdContext Context { get; }
        public IommuCore Core { get; } = new();
        public IDmaTranslator Hardware { get; }
        public Ioas Ioas { get; }

        /// <summary>A device behind the tracking-capable IOMMU (bus &lt; 0x80) or the other one (bus ≥ 0x80).</summary>
        public IommufdDevice Bind(string name, byte bus) =>
            Context.BindDevice(Core, Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, pasidBits: 8)));

        public DmaResult Write(IommufdDevice device, Iova iova, int length) =>
            DmaEngine.Transfer(Hardware, DmaRequest.ForWrite(device.Device.Rid, iova, (ulong)length), new byte[length]);

        public DmaResult Read(IommufdDevice device, Iova iova, int length) =>
            DmaEngine.Transfer(Hardware, DmaRequest.ForRead(device.Device.Rid, iova, (ulong)length), new byte[length]);

        public void Dispose() => Context.Dispose();
    }

    private static ulong Bitmap(HwptPaging hwpt, Iova iova, ulong length, bool noClear = false)
    {
        var bits = new ulong[1];
        hwpt.ReadAndClearDirty(iova, length, Page, bits, noClear);
        return bits[0];
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Dma_writes_mark_exactly_the_written_pages_and_reads_do_not(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        var hwpt = rig.Context.AllocHwptPaging(nic, rig.Ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var iova = rig.Ioas.Map(rig.Process.Mm.Map(16 * Page), 16 * Page, IoasMapFlags.ReadWrite);
        Assert.True(rig.Write(nic, iova, 8).IsSuccess); // before tracking starts: forgotten when it does
        hwpt.SetDirtyTracking(true);

        Assert.True(rig.Write(nic, iova + (3 * Page), 8).IsSuccess);
        Assert.True(rig.Write(nic, iova + (9 * Page) + 0xff8, 16).IsSuccess); // crosses into page 10
        Assert.True(rig.Read(nic, iova + (5 * Page), 8).IsSuccess); // reads are not logged
        Assert.True(rig.Read(nic, iova + (7 * Page), 8).IsSuccess);
        Assert.True(rig.Write(nic, iova + (7 * Page), 8).IsSuccess); // the read's cached entry must not skip logging
        Assert.True(rig.Write(nic, iova + (3 * Page) + 8, 8).IsSuccess); // again, through the cached entry

        const ulong written = (1UL << 3) | (1UL << 7) | (1UL << 9) | (1UL << 10);
        Assert.Equal(written, Bitmap(hwpt, iova, 16 * Page, noClear: true));
        Assert.Equal(written, Bitmap(hwpt, iova, 16 * Page)); // NO_CLEAR kept them; this read clears
        Assert.Equal(0UL, Bitmap(hwpt, iova, 16 * Page));

        // The clear was followed by an IOTLB flush, so writes through once-cached entries are logged again.
        Assert.True(rig.Write(nic, iova + (3 * Page), 8).IsSuccess);
        Assert.True(rig.Write(nic, iova + (15 * Page), 8).IsSuccess);
        Assert.Equal((1UL << 3) | (1UL << 15), Bitmap(hwpt, iova, 16 * Page));
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Re_enabling_tracking_starts_from_an_empty_log(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        var hwpt = rig.Context.AllocHwptPaging(nic, rig.Ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var iova = rig.Ioas.Map(rig.Process.Mm.Map(4 * Page), 4 * Page, IoasMapFlags.ReadWrite);
        hwpt.SetDirtyTracking(true);
        Assert.True(rig.Write(nic, iova, 8).IsSuccess);

        hwpt.SetDirtyTracking(false);
        Assert.False(hwpt.IsDirtyTracking);
        Assert.True(rig.Write(nic, iova + Page, 8).IsSuccess);
        hwpt.SetDirtyTracking(true);

        Assert.Equal(0UL, Bitmap(hwpt, iova, 4 * Page));
        Assert.True(rig.Write(nic, iova + (2 * Page), 8).IsSuccess);
        Assert.Equal(1UL << 2, Bitmap(hwpt, iova, 4 * Page));
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_written_2M_leaf_reports_every_page_it_covers(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        var hwpt = rig.Context.AllocHwptPaging(nic, rig.Ioas.Id, HwptAllocFlags.DirtyTracking);
        nic.Attach(hwpt.Id);
        var va = rig.Process.Mm.Map(4UL << 20, hugePages: true);
        var iova = rig.Ioas.Map(va, 4UL << 20, IoasMapFlags.ReadWrite);
        Assert.Equal(0UL, iova.Value & ((2UL << 20) - 1));
        hwpt.SetDirtyTracking(true);

        Assert.True(rig.Write(nic, iova + 0x1234, 4).IsSuccess); // one write into the first 2 MiB

        var bits = new ulong[16]; // 1024 pages
        hwpt.ReadAndClearDirty(iova, 4UL << 20, Page, bits);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(ulong.MaxValue, bits[i]); // pages 0–511: the whole leaf
            Assert.Equal(0UL, bits[8 + i]); // pages 512–1023: the second leaf was not written
        }

        var window = new ulong[1];
        hwpt.ReadAndClearDirty(iova + (64 * Page), 64 * Page, Page, window);
        Assert.Equal(0UL, window[0]); // cleared as a whole
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void The_errno_cases_are_the_kernels_and_change_nothing(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        var old = rig.Bind("old", 0x80); // behind an IOMMU (or flagged) without dirty tracking
        var plain = rig.Context.AllocHwptPaging(nic, rig.Ioas.Id);
        var dirty = rig.Context.AllocHwptPaging(nic, rig.Ioas.Id, HwptAllocFlags.DirtyTracking);
        var iova = rig.Ioas.Map(rig.Process.Mm.Map(4 * Page), 4 * Page, IoasMapFlags.ReadWrite);
        int objects = rig.Context.ObjectCount;
        var oldDomain = rig.Core.GetDomain(old.Device);

        Assert.Equal(HwInfoCapabilities.DirtyTracking, nic.GetHwInfo().Capabilities);
        Assert.Equal(HwInfoCapabilities.None, old.GetHwInfo().Capabilities);
        Assert.True(dirty.Domain.HasDirtyOps);
        Assert.False(plain.Domain.HasDirtyOps);
        ErrnoAssert(Errno.EOPNOTSUPP, () => rig.Context.AllocHwptPaging(old, rig.Ioas.Id, HwptAllocFlags.DirtyTracking));
        ErrnoAssert(Errno.EINVAL, () => old.Attach(dirty.Id)); // the domain refuses a device that cannot track
        ErrnoAssert(Errno.EOPNOTSUPP, () => plain.SetDirtyTracking(true));
        ErrnoAssert(Errno.EOPNOTSUPP, () => plain.ReadAndClearDirty(iova, Page, Page, new ulong[1]));

        Assert.Equal(objects, rig.Context.ObjectCount);
        Assert.Same(oldDomain, rig.Core.GetDomain(old.Device));
        Assert.False(dirty.IsDirtyTracking);
        Assert.False(plain.IsDirtyTracking);
    }

    private static void ErrnoAssert(Errno errno, Action action) => Assert.Equal(errno, Assert.Throws<IoasidException>(action).Errno);
}
