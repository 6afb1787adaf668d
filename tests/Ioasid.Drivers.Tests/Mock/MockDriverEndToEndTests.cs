using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Drivers.Tests.Mock;

/// <summary>
/// DMA end to end through the public API: bytes a process writes are read by a device through an IOAS, a domain
/// built by the mock driver's generated ops, and the mock hardware model — and the DMA faults once unmapped.
/// </summary>
public sealed class MockDriverEndToEndTests : IDisposable
{
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _iommufd;
    private readonly IommuCore _core = new();
    private readonly MockIommuDriver _driver;
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public MockDriverEndToEndTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        _driver = new MockIommuDriver(_core, _machine.Memory);
        _core.RegisterDriver(_driver.Ops);
        _ioas = _iommufd.AllocIoas();
        _va = _process.Mm.Map(1UL << 20);
    }

    public void Dispose() => _iommufd.Dispose();

    private IommufdDevice Bind(string name, byte bus, int pasidBits = 0) =>
        _iommufd.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, pasidBits: pasidBits)));

    private DmaResult Read(Rid rid, Iova iova, byte[] buffer, Pasid? pasid = null)
    {
        var request = DmaRequest.ForRead(rid, iova, (ulong)buffer.Length);
        return _driver.Hardware.Dma(pasid is { } p ? request.WithPasid(p) : request, buffer);
    }

    [Fact]
    public void A_device_reads_what_the_user_wrote_and_faults_after_unmap()
    {
        var nic = Bind("nic", 1);
        var hwpt = nic.Attach(_ioas.Id);
        _process.Mm.Write(_va + 0xff8, Encoding.ASCII.GetBytes("hello, device"));

        var iova = _ioas.Map(_va, 0x2000, IoasMapFlags.ReadWrite);
        Assert.InRange(iova.Value, MockIommuDriver.ApertureStart, MockIommuDriver.ApertureLast);

        var buffer = new byte[13];
        var read = Read(nic.Device.Rid, iova + 0xff8, buffer); // crosses a page boundary
        Assert.True(read.IsSuccess);
        Assert.Equal("hello, device", Encoding.ASCII.GetString(buffer));

        var write = _driver.Hardware.Dma(DmaRequest.ForWrite(nic.Device.Rid, iova + 0x10, 3), "DMA"u8.ToArray());
        Assert.True(write.IsSuccess);
        var back = new byte[3];
        _process.Mm.Read(_va + 0x10, back);
        Assert.Equal("DMA"u8.ToArray(), back);

        _ioas.Unmap(iova, 0x2000);
        var after = Read(nic.Device.Rid, iova, new byte[4]);
        Assert.False(after.IsSuccess);
        Assert.Equal(FaultReason.Translation, after.Fault);
        Assert.Equal(0, ((MockPagingDomain)hwpt.Domain).Driver.Hardware.StaleChecker.StaleHits);
    }

    [Fact]
    public void Writing_a_read_only_mapping_is_a_permission_fault_and_a_detached_device_is_blocked()
    {
        var nic = Bind("nic", 1);
        nic.Attach(_ioas.Id);
        var iova = _ioas.Map(_va, 0x1000, IoasMapFlags.Readable);

        var write = _driver.Hardware.Dma(DmaRequest.ForWrite(nic.Device.Rid, iova, 4), new byte[4]);
        Assert.Equal(FaultReason.Permission, write.Fault);

        nic.Detach();
        Assert.Equal(FaultReason.Blocked, Read(nic.Device.Rid, iova, new byte[4]).Fault);
        Assert.True(_driver.Hardware.Faults.Recorded >= 2);
    }

    [Fact]
    public void Two_devices_share_one_domain_and_both_see_later_maps()
    {
        var a = Bind("a", 1);
        var b = Bind("b", 2);
        Assert.Same(a.Attach(_ioas.Id), b.Attach(_ioas.Id));
        _process.Mm.Write(_va, "shared"u8);

        var iova = _ioas.Map(_va, 0x1000, IoasMapFlags.ReadWrite);

        var fromA = new byte[6];
        var fromB = new byte[6];
        Assert.True(Read(a.Device.Rid, iova, fromA).IsSuccess);
        Assert.True(Read(b.Device.Rid, iova, fromB).IsSuccess);
        Assert.Equal("shared"u8.ToArray(), fromA);
        Assert.Equal(fromA, fromB);
    }

    [Fact]
    public void A_pasid_keeps_translating_after_the_rid_is_detached()
    {
        var gpu = Bind("gpu", 1, pasidBits: 8);
        var pasidIoas = _iommufd.AllocIoas();
        gpu.Attach(_iommufd.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.Pasid).Id); // PASIDs need a PASID-compatible RID HWPT
        var pasidHwpt = _iommufd.AllocHwptPaging(gpu, pasidIoas.Id, HwptAllocFlags.Pasid);
        gpu.Attach(pasidHwpt.Id, new Pasid(3));
        _process.Mm.Write(_va + 0x3000, "pasid 3"u8);
        var iova = pasidIoas.Map(_va + 0x3000, 0x1000, IoasMapFlags.Readable);

        gpu.Detach();

        var buffer = new byte[7];
        Assert.True(Read(gpu.Device.Rid, iova, buffer, new Pasid(3)).IsSuccess);
        Assert.Equal("pasid 3"u8.ToArray(), buffer);
        Assert.Equal(FaultReason.Blocked, Read(gpu.Device.Rid, iova, new byte[1]).Fault);
    }

    [Fact]
    public void Closing_the_context_returns_every_pin_and_frees_the_page_tables()
    {
        var frames = _machine.Memory.Frames.AllocatedFrames;
        var nic = Bind("nic", 1);
        nic.Attach(_ioas.Id);
        _ioas.Map(_va, 1UL << 20, IoasMapFlags.ReadWrite);
        Assert.Equal(256, _process.Mm.PinnedVm);

        _iommufd.Dispose();

        Assert.Equal(0, _process.Mm.PinnedVm);
        Assert.Equal(0, _process.User.LockedVm);
        // User memory frames stay (the process still maps them); every page-table page is back.
        Assert.Equal(frames + 256, _machine.Memory.Frames.AllocatedFrames);
        Assert.Equal(FaultReason.Blocked, Read(nic.Device.Rid, new Iova(MockIommuDriver.ApertureStart), new byte[1]).Fault);
    }
}
