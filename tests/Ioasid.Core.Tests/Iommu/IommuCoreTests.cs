using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Core.Tests.Iommufd;

namespace Ioasid.Core.Tests.Iommu;

public sealed class IommuCoreTests
{
    private readonly IommuCore _core = new();
    private readonly TestDriver _driver;

    public IommuCoreTests()
    {
        _driver = new TestDriver(_core);
        _core.RegisterDriver(_driver.Ops);
    }

    private static PciDevice Pci(string name, byte bus, byte dev, byte fn = 0, bool acs = true, PciDevice? up = null, int pasidBits = 0) =>
        new(Rid.Create(bus, dev, fn), name, acs, up, pasidBits);

    [Fact]
    public void A_probed_device_starts_blocked_and_no_claim_is_ENODEV()
    {
        var nic = _core.AddDevice(Pci("nic", 1, 0));

        Assert.Same(_driver.Blocked, _core.GetDomain(nic));
        Assert.Same(_driver.Unit, nic.Unit);
        Assert.Equal(["attach nic Blocked"], _driver.Calls);
        ErrnoAssert.Throws(Errno.EEXIST, () => _core.AddDevice(Pci("again", 1, 0)));

        var other = new IommuCore();
        other.RegisterDriver(new TestDriver(other, claims: _ => false).Ops);
        ErrnoAssert.Throws(Errno.ENODEV, () => other.AddDevice(Pci("orphan", 2, 0)));
    }

    [Fact]
    public void Groups_follow_acs_isolation()
    {
        var isolatedPort = new PciDevice(Rid.Create(0, 1, 0), "port-acs", acs: true, isBridge: true);
        var plainBridge = new PciDevice(Rid.Create(0, 2, 0), "bridge", acs: false, isBridge: true);
        var a = _core.AddDevice(Pci("a", 3, 0, up: isolatedPort));
        var b = _core.AddDevice(Pci("b", 4, 0, up: isolatedPort));
        var c = _core.AddDevice(Pci("c", 5, 0, up: plainBridge));
        var d = _core.AddDevice(Pci("d", 6, 0, up: plainBridge));
        var f0 = _core.AddDevice(Pci("f0", 7, 0, 0, acs: false));
        var f1 = _core.AddDevice(Pci("f1", 7, 0, 1, acs: false));

        Assert.NotSame(a.Group, b.Group);
        Assert.Same(c.Group, d.Group);
        Assert.Same(f0.Group, f1.Group);
        Assert.Equal([c, d], c.Group.Devices);
        Assert.NotSame(a.Group, c.Group);
    }

    [Fact]
    public void A_group_moves_together_and_a_failed_attach_rolls_back()
    {
        var bridge = new PciDevice(Rid.Create(0, 2, 0), "bridge", acs: false, isBridge: true);
        var c = _core.AddDevice(Pci("c", 5, 0, up: bridge));
        var d = _core.AddDevice(Pci("d", 6, 0, up: bridge));
        var domain = _core.AllocPagingDomain(c, 0, default);

        _driver.FailAttach["d"] = Errno.ENOSPC;
        Assert.Equal(Errno.ENOSPC, _core.SetGroupDomain(c.Group, domain));
        Assert.Same(_driver.Blocked, _core.GetDomain(c));
        Assert.Same(_driver.Blocked, _core.GetDomain(d));

        _driver.FailAttach.Clear();
        Assert.Equal(Errno.None, _core.SetGroupDomain(c.Group, domain));
        Assert.Same(domain, _core.GetDomain(c));
        Assert.Same(domain, _core.GetDomain(d));
    }

    [Fact]
    public void A_domain_of_another_driver_is_incompatible()
    {
        var second = new TestDriver(_core, "second");
        var nic = _core.AddDevice(Pci("nic", 1, 0));
        var foreign = new IommuCore();
        var otherDriver = new TestDriver(foreign, "other");
        foreign.RegisterDriver(otherDriver.Ops);
        var otherDevice = foreign.AddDevice(Pci("x", 9, 0));
        var foreignDomain = foreign.AllocPagingDomain(otherDevice, 0, default);

        Assert.False(IommuCore.IsCompatible(foreignDomain, nic));
        Assert.Equal(Errno.EINVAL, _core.SetGroupDomain(nic.Group, foreignDomain));
        Assert.True(IommuCore.IsCompatible(_driver.Blocked!, nic));
        Assert.False(IommuCore.IsCompatible(second.Blocked!, nic));
    }

    [Fact]
    public void Pasid_rules()
    {
        var gpu = _core.AddDevice(Pci("gpu", 1, 0, pasidBits: 8));
        var plain = _core.AddDevice(Pci("plain", 2, 0));
        var domain = _core.AllocPagingDomain(gpu, 0, default);

        Assert.Equal(Errno.EINVAL, _core.SetPasid(gpu, Pasid.NoPasid, domain));
        Assert.Equal(Errno.EINVAL, _core.SetPasid(gpu, new Pasid(256), domain));
        Assert.Equal(Errno.EINVAL, _core.SetPasid(plain, new Pasid(1), domain));
        Assert.Equal(Errno.None, _core.SetPasid(gpu, new Pasid(255), domain));
        Assert.Same(domain, _core.GetPasidDomain(gpu, new Pasid(255)));

        // Changing the RID's domain leaves the PASID alone.
        var other = _core.AllocPagingDomain(gpu, 0, default);
        Assert.Equal(Errno.None, _core.SetGroupDomain(gpu.Group, other));
        Assert.Same(domain, _core.GetPasidDomain(gpu, new Pasid(255)));
        Assert.Equal([new Pasid(255)], _core.GetAttachedPasids(gpu));

        _core.RemovePasid(gpu, new Pasid(255));
        Assert.Null(_core.GetPasidDomain(gpu, new Pasid(255)));
        Assert.Contains("pasid gpu 255 Blocked", _driver.Calls);
    }

    [Fact]
    public void Pasid_needs_set_dev_pasid_and_a_blocking_domain()
    {
        var core = new IommuCore();
        var noPasid = new TestDriver(core, "nopasid", pasid: false);
        core.RegisterDriver(noPasid.Ops);
        var gpu = core.AddDevice(Pci("gpu", 1, 0, pasidBits: 8));
        Assert.Equal(Errno.EOPNOTSUPP, core.SetPasid(gpu, new Pasid(1), core.AllocPagingDomain(gpu, 0, default)));

        var core2 = new IommuCore();
        var noBlocked = new TestDriver(core2, "noblocked", blocked: false);
        core2.RegisterDriver(noBlocked.Ops);
        var gpu2 = core2.AddDevice(Pci("gpu", 1, 0, pasidBits: 8));
        // Without a static blocking domain the core blocks with an empty paging domain...
        Assert.True(core2.GetDomain(gpu2).IsPaging);
        // ...and PASID use is impossible.
        Assert.Equal(Errno.EOPNOTSUPP, core2.SetPasid(gpu2, new Pasid(1), core2.AllocPagingDomain(gpu2, 0, default)));
    }

    [Fact]
    public void Flags_without_the_flags_allocator_are_EOPNOTSUPP()
    {
        var core = new IommuCore();
        core.RegisterDriver(new TestDriver(core, "noflags", pagingFlags: false).Ops);
        var nic = core.AddDevice(Pci("nic", 1, 0));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => core.AllocPagingDomain(nic, 1, default));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => core.IdentityDomainFor(nic));
    }

    [Theory]
    [InlineData(0x1ff000ul, 0x1ff000ul, 0x401000ul, 0x1000ul, 1ul)]   // up to the 2 MiB boundary
    [InlineData(0x200000ul, 0x200000ul, 0x400000ul, 0x200000ul, 2ul)] // two 2 MiB pages
    [InlineData(0x200000ul, 0x201000ul, 0x400000ul, 0x1000ul, 1024ul)] // iova and pa offset differently: 4 KiB only
    [InlineData(0x0ul, 0x40000000ul, 0x80000000ul, 0x40000000ul, 2ul)] // two 1 GiB pages
    [InlineData(0x3fe00000ul, 0x3fe00000ul, 0x40400000ul, 0x200000ul, 1ul)] // 2 MiB up to the 1 GiB boundary
    public void Page_size_choice_follows_iommu_pgsize(ulong iova, ulong pa, ulong size, ulong pageSize, ulong count)
    {
        Assert.Equal(pageSize, IommuCore.PickPageSize(TestDriver.PageSizes, iova, pa, size, out var actualCount));
        Assert.Equal(count, actualCount);
    }

    [Fact]
    public void Map_uses_large_pages_and_unmap_syncs_the_gather()
    {
        var nic = _core.AddDevice(Pci("nic", 1, 0));
        var domain = (TestDriver.TestDomain)_core.AllocPagingDomain(nic, 0, default);
        _driver.Calls.Clear();

        Assert.Equal(Errno.None, _core.Map(domain, new Iova(0x1ff000), new PhysAddr(0x1ff000), 0x401000, IommuProt.Read | IommuProt.Write));
        Assert.Equal(["map 0x1ff000 0x1ff000 0x1000x1", "map 0x200000 0x200000 0x200000x2"], _driver.Calls);
        Assert.True(IommuCore.IovaToPhys(domain, new Iova(0x300123), out var pa));
        Assert.Equal(new PhysAddr(0x300123), pa);

        _driver.Calls.Clear();
        Assert.Equal(0x401000ul, _core.Unmap(domain, new Iova(0x1ff000), 0x401000));
        Assert.Equal("sync 0x1ff000-0x5fffff", _driver.Calls[^1]);
        Assert.Empty(domain.Table);
    }

    [Fact]
    public void Map_errors_undo_what_was_mapped()
    {
        var nic = _core.AddDevice(Pci("nic", 1, 0));
        var domain = (TestDriver.TestDomain)_core.AllocPagingDomain(nic, 0, default);
        Assert.Equal(Errno.EINVAL, _core.Map(domain, new Iova(0x800), new PhysAddr(0), 0x1000, IommuProt.Read));
        Assert.Equal(Errno.None, _core.Map(domain, new Iova(0x3000), new PhysAddr(0x3000), 0x1000, IommuProt.Read));

        // 0x1000..0x4000 collides at 0x3000: the first two pages are unmapped again.
        Assert.Equal(Errno.EEXIST, _core.Map(domain, new Iova(0x1000), new PhysAddr(0x9000), 0x3000, IommuProt.Read));
        Assert.Equal([0x3000ul], domain.Table.Keys);
    }

    [Fact]
    public void Identity_and_blocked_translate_without_the_driver()
    {
        Assert.False(IommuCore.IovaToPhys(_driver.Blocked!, new Iova(0x1000), out _));
    }
}
