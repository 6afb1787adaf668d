using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Mock;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Mock;
using Ioasid.Drivers.Smmu;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.AllDrivers;

/// <summary>
/// One IOMMU core with three drivers at once (a VT-d unit for bus 1, an SMMUv3 for bus 2, the mock for bus 3), and
/// one IOAS spanning a device behind each: the IOAS keeps one set of mappings and mirrors it into one HWPT per
/// incompatible domain (spec §3.8), while devices of the same driver share theirs.
/// </summary>
public sealed class MixedVendorTests : IDisposable
{
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _context;
    private readonly IommuCore _core = new();
    private readonly VtdIommuHardware _vtd;
    private readonly SmmuV3Hardware _smmu;
    private readonly MockIommuHardware _mock;

    public MixedVendorTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _context = new IommufdContext(_process);
        var vtd = new VtdIommuDriver(_core, _machine.Memory);
        _vtd = vtd.AddUnit("dmar0", null, pci => pci.Rid.Bus == 1).Hardware;
        var smmu = new SmmuV3Driver(_core, _machine.Memory, claims: pci => pci.Rid.Bus == 2);
        _smmu = smmu.Hardware;
        var mock = new MockIommuDriver(_core, _machine.Memory, claims: pci => pci.Rid.Bus == 3);
        _mock = mock.Hardware;
        _core.RegisterDriver(vtd.Ops);
        _core.RegisterDriver(smmu.Ops);
        _core.RegisterDriver(mock.Ops);
    }

    public void Dispose() => _context.Dispose();

    [Fact]
    public void One_ioas_gets_one_hwpt_per_vendor_and_every_device_sees_the_same_memory_until_the_unmap()
    {
        var ioas = _context.AllocIoas();
        var nic = Bind("nic", 1, 0);
        var nic2 = Bind("nic2", 1, 1);
        var gpu = Bind("gpu", 2, 0);
        var accel = Bind("accel", 3, 0);
        var vtdHwpt = nic.Attach(ioas.Id);
        Assert.Same(vtdHwpt, nic2.Attach(ioas.Id)); // same driver, same unit: one shared domain
        var smmuHwpt = gpu.Attach(ioas.Id);
        var mockHwpt = accel.Attach(ioas.Id);
        Assert.NotSame(vtdHwpt, smmuHwpt);
        Assert.NotSame(smmuHwpt, mockHwpt);
        Assert.IsType<VtdPagingDomain>(vtdHwpt.Domain);
        Assert.IsType<SmmuPagingDomain>(smmuHwpt.Domain);
        Assert.IsType<MockPagingDomain>(mockHwpt.Domain);

        // Mapped once (after every attach, so the IOVA respects every domain's reserved ranges), seen by all.
        ulong va = _process.Mm.Map(0x2000);
        _process.Mm.Write(va + 0x100, "one ioas"u8);
        Iova iova = ioas.Map(va, 0x2000, IoasMapFlags.ReadWrite);
        foreach (var (device, hardware) in Devices(nic, nic2, gpu, accel))
        {
            var buffer = new byte[8];
            Assert.True(DmaEngine.Transfer(hardware, DmaRequest.ForRead(device.Device.Rid, iova + 0x100, 8), buffer).IsSuccess, device.Device.Pci.Name);
            Assert.Equal("one ioas"u8.ToArray(), buffer);
        }

        // A write through the SMMU is read back through VT-d and the mock: one set of pages under three page tables.
        Assert.True(DmaEngine.Transfer(_smmu, DmaRequest.ForWrite(gpu.Device.Rid, iova + 0x100, 3), "ONE"u8.ToArray()).IsSuccess);
        var back = new byte[8];
        Assert.True(DmaEngine.Transfer(_mock, DmaRequest.ForRead(accel.Device.Rid, iova + 0x100, 8), back).IsSuccess);
        Assert.Equal("ONE ioas"u8.ToArray(), back);

        // One unmap reaches every HWPT and every IOTLB.
        ioas.Unmap(iova, 0x2000);
        foreach (var (device, hardware) in Devices(nic, nic2, gpu, accel))
        {
            Assert.Equal(FaultReason.Translation, DmaEngine.Transfer(hardware, DmaRequest.ForRead(device.Device.Rid, iova + 0x100, 8), new byte[8]).Fault);
        }
    }

    private IommufdDevice Bind(string name, byte bus, byte device) =>
        _context.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, device, 0), name)));

    private IEnumerable<(IommufdDevice Device, IDmaTranslator Hardware)> Devices(params IommufdDevice[] devices) =>
        devices.Select(d => (d, d.Device.Rid.Bus switch { 1 => (IDmaTranslator)_vtd, 2 => _smmu, _ => _mock }));
}
