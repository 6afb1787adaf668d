using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>Devices behind two units (drivers.md §5 invariant 15) and through iommufd.</summary>
public class VtdMultiUnitTests
{
    [Fact]
    public void A_domain_attached_through_two_units_has_a_did_on_each_and_unmap_invalidates_both()
    {
        var rig = new VtdRig();
        var second = rig.AddSecondUnit();
        var a = rig.AddDevice(1);
        var b = rig.AddDevice(0x81);
        Assert.NotSame(VtdIommuDriver.DataOf(a).Unit, VtdIommuDriver.DataOf(b).Unit);
        var domain = rig.Attach(a);
        rig.Attach(b, domain);
        Assert.Equal(2, domain.Tags.Units.Count);
        rig.Map(domain, 0x1000, 0xA000, K4);
        Assert.True(Translate(a, 0x1000).IsSuccess);
        Assert.True(Translate(b, 0x1000).IsSuccess);
        long firstBefore = rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.Iotlb);
        long secondBefore = second.Hardware.DescriptorsExecuted(InvalidationDescriptorType.Iotlb);
        rig.Core.Unmap(domain, new Iova(0x1000), K4);
        Assert.Equal(firstBefore + 1, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.Iotlb));
        Assert.Equal(secondBefore + 1, second.Hardware.DescriptorsExecuted(InvalidationDescriptorType.Iotlb));
        Assert.False(Translate(a, 0x1000).IsSuccess);
        Assert.False(Translate(b, 0x1000).IsSuccess);
    }

    [Fact]
    public void Domain_ids_are_allocated_per_unit()
    {
        var rig = new VtdRig();
        var second = rig.AddSecondUnit();
        var a = rig.AddDevice(1);
        var b = rig.AddDevice(0x81);
        var x = rig.Attach(a);
        var y = rig.Attach(b);
        Assert.True(x.Tags.TryGetDomainId(rig.Unit, out ushort dx));
        Assert.True(y.Tags.TryGetDomainId(second, out ushort dy));
        Assert.Equal(DomainIdAllocator.FirstDomainId, dx);
        Assert.Equal(DomainIdAllocator.FirstDomainId, dy); // the same number, on different units
    }

    [Fact]
    public void One_ioas_spanning_two_units_maps_into_each_and_dma_faults_on_both_after_unmap()
    {
        var machine = new Machine(1UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = 64UL << 20;
        using var iommufd = new IommufdContext(process);
        var core = new IommuCore();
        var driver = new VtdIommuDriver(core, machine.Memory);
        var u0 = driver.AddUnit("dmar0", null, p => p.Rid.Bus < 0x80);
        var u1 = driver.AddUnit("dmar1", new VtdCapabilities { SecondStageLevels = [3] }, p => p.Rid.Bus >= 0x80); // cannot walk dmar0's 4-level tables
        core.RegisterDriver(driver.Ops);
        var ioas = iommufd.AllocIoas();
        var nic = iommufd.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic")));
        var gpu = iommufd.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(0x81, 0, 0), "gpu")));
        var h0 = nic.Attach(ioas.Id);
        var h1 = gpu.Attach(ioas.Id);
        Assert.NotEqual(h0.Id, h1.Id); // incompatible: the core gives the IOAS a second, mirrored HWPT

        ulong va = process.Mm.Map(0x4000);
        process.Mm.Write(va + 0x10, Encoding.ASCII.GetBytes("both units"));
        var iova = ioas.Map(va, 0x4000, IoasMapFlags.ReadWrite);
        var buffer = new byte[10];
        Assert.True(u0.Hardware.Dma(DmaRequest.ForRead(nic.Device.Rid, iova + 0x10, 10), buffer).IsSuccess);
        Assert.Equal("both units", Encoding.ASCII.GetString(buffer));
        Assert.True(u1.Hardware.Dma(DmaRequest.ForRead(gpu.Device.Rid, iova + 0x10, 10), buffer).IsSuccess);

        ioas.Unmap(iova, 0x4000);
        Assert.False(u0.Hardware.Dma(DmaRequest.ForRead(nic.Device.Rid, iova + 0x10, 10), buffer).IsSuccess);
        Assert.False(u1.Hardware.Dma(DmaRequest.ForRead(gpu.Device.Rid, iova + 0x10, 10), buffer).IsSuccess);
    }

    [Fact]
    public void Hw_info_returns_the_vtd_struct_with_the_units_cap_and_ecap()
    {
        var machine = new Machine(1UL << 30);
        using var iommufd = new IommufdContext(machine.CreateProcess());
        var core = new IommuCore();
        var driver = new VtdIommuDriver(core, machine.Memory);
        var unit = driver.AddUnit("dmar0");
        core.RegisterDriver(driver.Ops);
        var dev = iommufd.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic", pasidBits: 20)));
        var info = dev.GetHwInfo();
        Assert.Equal(VtdIommuDriver.HwInfoType, info.Type);
        Assert.Equal(24, info.Data.Length);
        Assert.Equal(0u, BitConverter.ToUInt32(info.Data, 0));
        Assert.Equal(0u, BitConverter.ToUInt32(info.Data, 4));
        Assert.Equal(unit.Hardware.ReadRegister64(VtdRegisters.Capability), BitConverter.ToUInt64(info.Data, 8));
        Assert.Equal(unit.Hardware.ReadRegister64(VtdRegisters.ExtendedCapability), BitConverter.ToUInt64(info.Data, 16));
        Assert.Equal(20, info.MaxPasidLog2);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => dev.GetHwInfo(2)).Errno);
    }
}
