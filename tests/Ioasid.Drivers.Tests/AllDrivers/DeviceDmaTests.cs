using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;
using Ioasid.Drivers.Smmu;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.AllDrivers;

/// <summary>
/// The device-layer guarantees (spec §6–§7, the devices issue), run unchanged over every driver: the mock, Intel
/// VT-d and ARM SMMUv3. Each driver plugs into the same core through its generated ops table; DMA goes through that
/// vendor's hardware model by the shared <see cref="DmaEngine"/>. Vendor-specific fault codes differ; the shared
/// <see cref="FaultReason"/> does not.
/// </summary>
public sealed class DeviceDmaTests
{
    public static TheoryData<string> Drivers => new() { "mock", "vtd", "smmuv3" };

    private sealed class Rig : IDisposable
    {
        public Rig(string driver)
        {
            Machine = new Machine(1UL << 30);
            Process = Machine.CreateProcess();
            Process.MemlockLimit = 64UL << 20;
            Context = new IommufdContext(Process);
            Hardware = driver switch
            {
                "mock" => Install(new MockIommuDriver(Core, Machine.Memory), d => d.Ops, d => d.Hardware),
                "vtd" => Install(new VtdIommuDriver(Core, Machine.Memory), d => d.Ops, d => d.AddUnit("dmar0").Hardware),
                "smmuv3" => Install(new SmmuV3Driver(Core, Machine.Memory), d => d.Ops, d => d.Hardware),
                _ => throw new ArgumentOutOfRangeException(nameof(driver)),
            };
            Ioas = Context.AllocIoas();
            Va = Process.Mm.Map(1UL << 20);
        }

        public Machine Machine { get; }
        public UserProcess Process { get; }
        public IommufdContext Context { get; }
        public IommuCore Core { get; } = new();
        public IDmaTranslator Hardware { get; }
        public Ioas Ioas { get; }
        public ulong Va { get; }

        public IommufdDevice Bind(string name, byte bus, int pasidBits = 0) =>
            Context.BindDevice(Core, Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, pasidBits: pasidBits)));

        public DmaResult Read(IommufdDevice device, Iova iova, byte[] buffer, Pasid? pasid = null)
        {
            var request = DmaRequest.ForRead(device.Device.Rid, iova, (ulong)buffer.Length);
            return DmaEngine.Transfer(Hardware, pasid is { } p ? request.WithPasid(p) : request, buffer);
        }

        public DmaResult Write(IommufdDevice device, Iova iova, byte[] data) =>
            DmaEngine.Transfer(Hardware, DmaRequest.ForWrite(device.Device.Rid, iova, (ulong)data.Length), data);

        public void Dispose() => Context.Dispose();

        // Registers the driver, then creates its hardware (a VT-d unit is added before registration).
        private IDmaTranslator Install<TDriver>(TDriver driver, Func<TDriver, IommuOps> ops, Func<TDriver, IDmaTranslator> hardware)
        {
            var translator = hardware(driver);
            Core.RegisterDriver(ops(driver));
            return translator;
        }
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_device_reads_what_the_user_wrote_and_faults_after_unmap(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        nic.Attach(rig.Ioas.Id);
        rig.Process.Mm.Write(rig.Va + 0xff8, "hello, device"u8);
        var iova = rig.Ioas.Map(rig.Va, 0x2000, IoasMapFlags.ReadWrite);

        var buffer = new byte[13];
        Assert.True(rig.Read(nic, iova + 0xff8, buffer).IsSuccess); // crosses a page boundary
        Assert.Equal("hello, device"u8.ToArray(), buffer);
        Assert.True(rig.Write(nic, iova + 0x10, "DMA"u8.ToArray()).IsSuccess);
        var back = new byte[3];
        rig.Process.Mm.Read(rig.Va + 0x10, back);
        Assert.Equal("DMA"u8.ToArray(), back);

        rig.Ioas.Unmap(iova, 0x2000);
        Assert.Equal(FaultReason.Translation, rig.Read(nic, iova, new byte[4]).Fault);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Writing_a_read_only_mapping_faults_and_a_detached_device_is_blocked(string driver)
    {
        using var rig = new Rig(driver);
        var nic = rig.Bind("nic", 1);
        nic.Attach(rig.Ioas.Id);
        var iova = rig.Ioas.Map(rig.Va, 0x1000, IoasMapFlags.Readable);

        Assert.Equal(FaultReason.Permission, rig.Write(nic, iova, new byte[4]).Fault);
        Assert.True(rig.Read(nic, iova, new byte[4]).IsSuccess);

        nic.Detach();
        Assert.False(rig.Read(nic, iova, new byte[4]).IsSuccess);
        Assert.Same(rig.Core.BlockingDomainFor(nic.Device), rig.Core.GetDomain(nic.Device));
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Two_devices_share_one_domain_and_both_see_later_maps(string driver)
    {
        using var rig = new Rig(driver);
        var a = rig.Bind("a", 1);
        var b = rig.Bind("b", 2);
        Assert.Same(a.Attach(rig.Ioas.Id), b.Attach(rig.Ioas.Id));
        rig.Process.Mm.Write(rig.Va, "shared"u8);

        var iova = rig.Ioas.Map(rig.Va, 0x1000, IoasMapFlags.ReadWrite);

        var fromA = new byte[6];
        var fromB = new byte[6];
        Assert.True(rig.Read(a, iova, fromA).IsSuccess);
        Assert.True(rig.Read(b, iova, fromB).IsSuccess);
        Assert.Equal("shared"u8.ToArray(), fromA);
        Assert.Equal(fromA, fromB);

        // An unmap is invalidated for both devices of the shared domain.
        rig.Ioas.Unmap(iova, 0x1000);
        Assert.False(rig.Read(a, iova, new byte[1]).IsSuccess);
        Assert.False(rig.Read(b, iova, new byte[1]).IsSuccess);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void A_pasid_keeps_translating_after_the_rid_is_detached(string driver)
    {
        using var rig = new Rig(driver);
        var gpu = rig.Bind("gpu", 1, pasidBits: 8);
        var pasidIoas = rig.Context.AllocIoas();
        gpu.Attach(rig.Context.AllocHwptPaging(gpu, rig.Ioas.Id, HwptAllocFlags.Pasid).Id);
        gpu.Attach(rig.Context.AllocHwptPaging(gpu, pasidIoas.Id, HwptAllocFlags.Pasid).Id, new Pasid(3));
        rig.Process.Mm.Write(rig.Va + 0x3000, "pasid 3"u8);
        var iova = pasidIoas.Map(rig.Va + 0x3000, 0x1000, IoasMapFlags.Readable);

        gpu.Detach();

        var buffer = new byte[7];
        Assert.True(rig.Read(gpu, iova, buffer, new Pasid(3)).IsSuccess);
        Assert.Equal("pasid 3"u8.ToArray(), buffer);
        Assert.False(rig.Read(gpu, iova, new byte[1]).IsSuccess);
        Assert.Equal([new Pasid(3)], gpu.AttachedPasids);
    }

    [Theory]
    [MemberData(nameof(Drivers))]
    public void Closing_the_context_returns_every_pin_and_frees_the_page_tables(string driver)
    {
        using var rig = new Rig(driver);
        var pci = rig.Core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic"));

        // The first round leaves what the driver keeps per device (context/PASID/CD tables, the blocking state);
        // every later round must return to exactly the same frame count: no domain page-table page is leaked.
        long? framesAfterRound = null;
        for (var round = 0; round < 2; round++)
        {
            var context = new IommufdContext(rig.Process);
            var nic = context.BindDevice(rig.Core, pci);
            var ioas = context.AllocIoas();
            nic.Attach(ioas.Id);
            var iova = ioas.Map(rig.Va, 1UL << 20, IoasMapFlags.ReadWrite);
            Assert.Equal(256, rig.Process.Mm.PinnedVm);

            context.Dispose();

            Assert.Equal(0, rig.Process.Mm.PinnedVm);
            Assert.Equal(0, rig.Process.User.LockedVm);
            Assert.False(rig.Read(nic, iova, new byte[1]).IsSuccess);
            var frames = rig.Machine.Memory.Frames.AllocatedFrames;
            Assert.Equal(framesAfterRound ?? frames, frames);
            framesAfterRound = frames;
        }
    }
}
