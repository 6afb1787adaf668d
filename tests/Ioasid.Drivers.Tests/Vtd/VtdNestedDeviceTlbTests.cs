using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>
/// Nested translation with an ATS device: the user's VTD_S1 invalidation flushes the device TLB too ("the device TLB
/// is flushed automatically when ATS is on"), and unmapping the nest parent reaches the device TLB of the nested
/// domain's device.
/// </summary>
public sealed class VtdNestedDeviceTlbTests : IDisposable
{
    private const ulong Gpa = 0x10_0000;
    private const ulong S1Iova = 0x7654_3000;

    private readonly Machine _machine = new(1UL << 30);
    private readonly IommufdContext _iommufd;
    private readonly UserProcess _process;
    private readonly IommuCore _core = new();
    private readonly VtdUnit _unit;
    private readonly Ioas _ioas;
    private readonly IommufdDevice _dev;
    private readonly ulong _va;

    public VtdNestedDeviceTlbTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        var driver = new VtdIommuDriver(_core, _machine.Memory);
        _unit = driver.AddUnit("dmar0", new VtdCapabilities { DeviceTlb = true });
        _core.RegisterDriver(driver.Ops);
        _ioas = _iommufd.AllocIoas();
        _dev = _iommufd.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "vf", pasidBits: 8, ats: true)));
        _va = _process.Mm.Map(8 * 4096);
        _ioas.Map(_va, 8 * 4096, IoasMapFlags.ReadWrite | IoasMapFlags.FixedIova, new Iova(Gpa));

        // The guest's 4-level first-stage table in pages 0–3 of the region; S1Iova → page 4.
        WriteEntry(0, (int)((S1Iova >> 39) & 511), FlPte.Table(new PhysAddr(Gpa + 0x1000)));
        WriteEntry(1, (int)((S1Iova >> 30) & 511), FlPte.Table(new PhysAddr(Gpa + 0x2000)));
        WriteEntry(2, (int)((S1Iova >> 21) & 511), FlPte.Table(new PhysAddr(Gpa + 0x3000)));
        WriteEntry(3, (int)((S1Iova >> 12) & 511), FlPte.Leaf(new PhysAddr(Gpa + 0x4000), 1, true));
    }

    public void Dispose() => _iommufd.Dispose();

    private void WriteEntry(int page, int index, ulong value) =>
        _process.Mm.Write(_va + ((ulong)page * 0x1000) + ((ulong)index * 8), BitConverter.GetBytes(value));

    private TranslationResult Dma() => _unit.Hardware.Translate(new DmaRequest(_dev.Device.Rid, null, new Iova(S1Iova + 0x20), 8, DmaAccess.Read));

    private HwptNested AttachNested()
    {
        HwptPaging parent = _iommufd.AllocHwptPaging(_dev, _ioas.Id, HwptAllocFlags.NestParent);
        HwptNested nested = _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, VtdS1Data.DataType, new VtdS1Data(0, Gpa, 48).ToBytes());
        _dev.Attach(nested.Id);
        return nested;
    }

    [Fact]
    public void The_users_stage1_invalidation_also_flushes_the_device_tlb()
    {
        _process.Mm.Write(_va + (5 * 4096) + 0x20, "five"u8);
        HwptNested nested = AttachNested();
        Assert.True(Dma().IsSuccess);
        Assert.True(Dma().DeviceTlbHit);
        _unit.Hardware.StaleChecker.Enabled = true;

        WriteEntry(3, (int)((S1Iova >> 12) & 511), FlPte.Leaf(new PhysAddr(Gpa + 0x5000), 1, true)); // the guest remaps
        Assert.True(Dma().DeviceTlbHit); // stale until invalidated
        Assert.True(Assert.Single(_unit.Hardware.StaleChecker.Reports).InDeviceTlb);

        var inv = new VtdS1Invalidation(S1Iova, 1, VtdS1Invalidation.Leaf).ToBytes();
        nested.Invalidate(VtdS1Invalidation.DataType, inv, VtdS1Invalidation.Size, 1, out uint handled);
        Assert.Equal(1u, handled);
        Assert.Equal(1, _unit.Hardware.DescriptorsExecuted(InvalidationDescriptorType.DeviceTlb));

        TranslationResult fresh = Dma();
        Assert.False(fresh.DeviceTlbHit);
        Assert.True(fresh.IsSuccess);
        var bytes = new byte[4];
        _machine.Memory.Read(fresh.Address, bytes);
        Assert.Equal("five"u8.ToArray(), bytes); // the new page of the guest's table
        Assert.Single(_unit.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Unmapping_the_nest_parent_flushes_the_nested_devices_device_tlb()
    {
        AttachNested();
        Assert.True(Dma().IsSuccess);
        Assert.True(Dma().DeviceTlbHit);
        _ioas.Unmap(new Iova(Gpa), 8 * 4096);
        Assert.False(Dma().IsSuccess);
        Assert.Equal(0, _unit.Hardware.Ats.Find(_dev.Device.Rid)!.Count);
    }
}
