using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Tests.Iommu;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>Device-centric bind / attach / replace / detach (spec §6), with the group only as a constraint.</summary>
public sealed class DeviceAttachTests : IDisposable
{
    private const IoasMapFlags FixedRw = IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite;
    private readonly CoreFixture _f = new();
    private readonly IommuCore _core = new();
    private readonly TestDriver _driver;
    private readonly TestDriver _otherDriver;
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public DeviceAttachTests()
    {
        // Two drivers: RIDs on bus 0x20 and above belong to "other" (an incompatible IOMMU).
        _driver = new TestDriver(_core, "test", claims: pci => pci.Rid.Bus < 0x20);
        _otherDriver = new TestDriver(_core, "other", claims: pci => pci.Rid.Bus >= 0x20);
        _core.RegisterDriver(_driver.Ops);
        _core.RegisterDriver(_otherDriver.Ops);
        _ioas = _f.Context.AllocIoas();
        _va = _f.Process.Mm.Map(4UL << 20);
        _f.Process.MemlockLimit = 64UL << 20;
    }

    public void Dispose() => _f.Dispose();

    private IommufdDevice Bind(string name, byte bus, PciDevice? upstream = null, int pasidBits = 0) =>
        _f.Context.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, acs: true, upstream, pasidBits)));

    private static TestDriver.TestDomain Domain(Hwpt hwpt) => (TestDriver.TestDomain)hwpt.Domain;

    [Fact]
    public void Compatible_devices_share_one_automatic_hwpt_and_see_every_later_map()
    {
        var a = Bind("a", 1);
        var b = Bind("b", 2);

        var hwptA = a.Attach(_ioas.Id);
        var hwptB = b.Attach(_ioas.Id);
        _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));

        Assert.Same(hwptA, hwptB);
        Assert.True(hwptA.IsAuto);
        Assert.Same(hwptA.Domain, _core.GetDomain(a.Device));
        Assert.Same(hwptA.Domain, _core.GetDomain(b.Device));
        Assert.Equal([0x10000ul, 0x11000ul], Domain(hwptA).Table.Keys);
        Assert.Equal(3, hwptA.Users); // the table and two devices
    }

    [Fact]
    public void A_device_of_another_iommu_gets_a_second_hwpt_mirroring_the_same_mappings()
    {
        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        var a = Bind("a", 1);
        var x = Bind("x", 0x21);

        var hwptA = a.Attach(_ioas.Id);
        var hwptX = x.Attach(_ioas.Id);
        _ioas.Map(_va + 0x1000, 0x1000, FixedRw, new Iova(0x20000));

        Assert.NotSame(hwptA, hwptX);
        Assert.Equal(Domain(hwptA).Table.Keys, Domain(hwptX).Table.Keys);
        Assert.Equal(2, Domain(hwptX).Table.Count);
        Assert.Equal(2, _f.Process.Mm.PinnedVm); // pinned once for both domains
    }

    [Fact]
    public void Devices_of_a_non_isolated_group_must_share_one_hwpt()
    {
        var bridge = new PciDevice(Rid.Create(0, 0x10, 0), "bridge", acs: false, isBridge: true);
        var c = Bind("c", 3, bridge);
        var d = Bind("d", 4, bridge);
        Assert.Same(c.Device.Group, d.Device.Group);
        var first = _f.Context.AllocHwptPaging(c, _ioas.Id);
        var second = _f.Context.AllocHwptPaging(c, _ioas.Id);

        c.Attach(first.Id);
        // Attaching c moved the whole group, d included, though d is not attached from iommufd's view.
        Assert.Same(first.Domain, _core.GetDomain(d.Device));
        Assert.Null(d.Hwpt);

        ErrnoAssert.Throws(Errno.EINVAL, () => d.Attach(second.Id));
        Assert.Same(first, d.Attach(first.Id));
        Assert.Same(first, d.Hwpt);
    }

    [Fact]
    public void A_failed_replace_keeps_the_old_domain()
    {
        var a = Bind("a", 1);
        var first = _f.Context.AllocHwptPaging(a, _ioas.Id);
        var second = _f.Context.AllocHwptPaging(a, _ioas.Id);
        a.Attach(first.Id);

        _driver.FailAttach["a"] = Errno.ENOSPC;
        ErrnoAssert.Throws(Errno.ENOSPC, () => a.Replace(second.Id));

        Assert.Same(first, a.Hwpt);
        Assert.Same(first.Domain, _core.GetDomain(a.Device));
        _driver.FailAttach.Clear();
        Assert.Same(second, a.Replace(second.Id));
        Assert.Same(second.Domain, _core.GetDomain(a.Device));
        Assert.Equal(1, first.Users);
        ErrnoAssert.Throws(Errno.EINVAL, () => Bind("b", 2).Replace(first.Id)); // not attached
    }

    [Fact]
    public void Detaching_the_rid_leaves_pasid_attachments_working()
    {
        var gpu = Bind("gpu", 1, pasidBits: 8);
        var hwpt = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.Pasid);
        gpu.Attach(hwpt.Id);
        gpu.Attach(hwpt.Id, new Pasid(5));

        gpu.Detach();

        Assert.Null(gpu.Hwpt);
        Assert.Same(_driver.Blocked, _core.GetDomain(gpu.Device));
        Assert.Same(hwpt, gpu.GetHwpt(new Pasid(5)));
        Assert.Same(hwpt.Domain, _core.GetPasidDomain(gpu.Device, new Pasid(5)));
        Assert.Equal([new Pasid(5)], gpu.AttachedPasids);
    }

    [Fact]
    public void Attach_twice_is_EBUSY_and_detach_of_nothing_is_a_no_op()
    {
        var gpu = Bind("gpu", 1, pasidBits: 8);
        var hwpt = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.Pasid);
        gpu.Attach(hwpt.Id, new Pasid(7));

        ErrnoAssert.Throws(Errno.EBUSY, () => gpu.Attach(hwpt.Id, new Pasid(7)));
        gpu.Detach(new Pasid(9));
        gpu.Detach(new Pasid(7));
        gpu.Detach(new Pasid(7));
        Assert.Null(_core.GetPasidDomain(gpu.Device, new Pasid(7)));
        // A PASID beyond the device's width is refused.
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Attach(hwpt.Id, new Pasid(256)));
    }

    [Fact]
    public void An_automatic_hwpt_dies_with_its_last_device()
    {
        var a = Bind("a", 1);
        var auto = a.Attach(_ioas.Id);
        var manual = _f.Context.AllocHwptPaging(a, _ioas.Id);

        a.Replace(manual.Id);

        Assert.True(auto.IsDestroyed);
        ErrnoAssert.Throws(Errno.ENOENT, () => a.Replace(auto.Id));
        // A manual HWPT is never picked automatically: a second device gets a new automatic one.
        var b = Bind("b", 2);
        var picked = b.Attach(_ioas.Id);
        Assert.NotSame(manual, picked);
        Assert.True(picked.IsAuto);
    }

    [Fact]
    public void Ownership_and_references_guard_devices_hwpts_and_ioases()
    {
        var a = Bind("a", 1);
        using var other = new IommufdContext(_f.Process);
        ErrnoAssert.Throws(Errno.EBUSY, () => other.BindDevice(_core, a.Device));
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.BindDevice(_core, a.Device));
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(a.Id)); // the binding driver holds it

        var hwpt = a.Attach(_ioas.Id);
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(_ioas.Id));
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(hwpt.Id));
        var access = _f.Context.CreateAccess(new RecordingAccessOps());
        ErrnoAssert.Throws(Errno.EINVAL, () => a.Replace(access.Id));
        ErrnoAssert.Throws(Errno.ENOENT, () => a.Replace(new IoasidId(999)));

        a.Unbind();
        Assert.True(hwpt.IsDestroyed);
        Assert.Null(_core.DmaOwner(a.Device.Group));
        other.BindDevice(_core, a.Device);
    }

    [Fact]
    public void Reserved_regions_of_a_device_become_reserved_iova()
    {
        _driver.ReservedRegions["nic"] = [new ReservedRegion(new Iova(0xfee0_0000), 0x10_0000, ReservedRegionType.SwMsi)];
        _driver.ReservedRegions["busy"] = [new ReservedRegion(new Iova(0x10000), 0x1000, ReservedRegionType.Reserved)];
        var nic = Bind("nic", 1);
        nic.Attach(_ioas.Id);

        Assert.Equal(
            [new IovaRange(Iova.Zero, new Iova(0xfedf_ffff)), new IovaRange(new Iova(0xfef0_0000), new Iova(ulong.MaxValue))],
            _ioas.GetIovaRanges());
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(_va, 0x1000, FixedRw, new Iova(0xfee0_0000)));

        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        var busy = Bind("busy", 2);
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => busy.Attach(_ioas.Id));
        Assert.Null(busy.Hwpt);
        Assert.Same(_driver.Blocked, _core.GetDomain(busy.Device));

        nic.Detach();
        Assert.Equal([IovaRange.All], _ioas.GetIovaRanges());
    }

    [Fact]
    public void Closing_the_context_detaches_unbinds_and_returns_every_pin()
    {
        var a = Bind("a", 1);
        var x = Bind("x", 0x21);
        a.Attach(_ioas.Id);
        x.Attach(_ioas.Id);
        _ioas.Map(_va, 0x10000, FixedRw, new Iova(0x10000));
        Assert.Equal(16, _f.Process.Mm.PinnedVm);
        Assert.True(_f.Process.Mm.TryGetFrame(_va, out var frame));
        Assert.Equal(1, _f.Machine.Memory.PinCount(frame));

        _f.Context.Dispose();

        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);
        Assert.Equal(0, _f.Machine.Memory.PinCount(frame));
        Assert.Null(_core.DmaOwner(a.Device.Group));
        Assert.Same(_driver.Blocked, _core.GetDomain(a.Device));
    }
}
