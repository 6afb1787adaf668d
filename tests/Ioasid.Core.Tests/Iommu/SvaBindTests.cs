using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Iommu;

/// <summary>iommu_sva_bind_device / unbind in the core (iommu-sva.c), over a tiny driver whose SVA domains only record calls.</summary>
public class SvaBindTests
{
    [Fact]
    public void Bind_gives_each_mm_one_global_pasid_never_zero_and_one_domain_shared_by_devices_of_a_driver()
    {
        var rig = new Rig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var mm = rig.Machine.CreateProcess().Mm;
        var other = rig.Machine.CreateProcess().Mm;

        var h1 = rig.Core.BindSva(d1, mm);
        var h2 = rig.Core.BindSva(d2, mm);
        var h3 = rig.Core.BindSva(d1, other);

        Assert.Equal(new Pasid(1), h1.Pasid);
        Assert.Equal(h1.Pasid, h2.Pasid);
        Assert.Same(h1.Domain, h2.Domain);
        Assert.Equal(IommuDomainType.Sva, h1.Domain.Type);
        Assert.Equal([h1.Domain], rig.Core.SvaDomainsOf(mm));
        Assert.Same(h1.Domain, rig.Core.GetPasidDomain(d1, h1.Pasid));
        Assert.Same(h1.Domain, rig.Core.GetPasidDomain(d2, h1.Pasid));
        Assert.Equal(new Pasid(2), h3.Pasid);
        Assert.NotSame(h1.Domain, h3.Domain);
        Assert.Equal(1, rig.A.Allocations[mm]);
        Assert.NotNull(mm.CpuPageTable);
    }

    [Fact]
    public void A_device_of_another_driver_gets_its_own_domain_on_the_same_pasid()
    {
        var rig = new Rig();
        var a = rig.AddDevice(1);
        var b = rig.AddDevice(0x81); // claimed by driver B
        var mm = rig.Machine.CreateProcess().Mm;

        var ha = rig.Core.BindSva(a, mm);
        var hb = rig.Core.BindSva(b, mm);

        Assert.Equal(ha.Pasid, hb.Pasid);
        Assert.NotSame(ha.Domain, hb.Domain);
        Assert.Same(rig.B.Ops, hb.Domain.Owner);
        Assert.Equal(2, rig.Core.SvaDomainsOf(mm).Count);
    }

    [Fact]
    public void Binding_the_same_device_twice_returns_the_same_handle_until_both_unbinds()
    {
        var rig = new Rig();
        var dev = rig.AddDevice(1);
        var process = rig.Machine.CreateProcess();

        var first = rig.Core.BindSva(dev, process.Mm);
        var second = rig.Core.BindSva(dev, process.Mm);
        Assert.Same(first, second);
        Assert.Equal(2, first.Users);
        Assert.Equal(1, rig.A.Allocations[process.Mm]);

        first.Unbind();
        Assert.True(first.IsBound);
        Assert.Same(first.Domain, rig.Core.GetPasidDomain(dev, first.Pasid));

        second.Unbind();
        Assert.False(first.IsBound);
        Assert.Null(rig.Core.GetPasidDomain(dev, first.Pasid));
        Assert.Contains($"free {first.Domain.Handle}", rig.A.Calls);
        Assert.Empty(rig.Core.SvaDomainsOf(process.Mm));
        Assert.Equal(first.Pasid, rig.Core.SvaPasidOf(process.Mm)); // the mm keeps its PASID while it lives
        Assert.Throws<InvalidOperationException>(first.Unbind);

        process.Exit();
        Assert.Null(rig.Core.SvaPasidOf(process.Mm));
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
    }

    [Fact]
    public void An_exited_mm_keeps_its_pasid_until_the_last_unbind_and_the_pasid_is_then_reused()
    {
        var rig = new Rig();
        var dev = rig.AddDevice(1);
        var process = rig.Machine.CreateProcess();
        var bond = rig.Core.BindSva(dev, process.Mm);

        process.Exit();
        Assert.Equal(bond.Pasid, rig.Core.SvaPasidOf(process.Mm));
        Assert.True(rig.Core.GlobalPasids.IsAllocated(bond.Pasid));
        Assert.Throws<InvalidOperationException>(() => rig.Core.BindSva(rig.AddDevice(2), process.Mm));

        bond.Unbind();
        Assert.False(rig.Core.GlobalPasids.IsAllocated(bond.Pasid));
        Assert.Equal(bond.Pasid, rig.Core.BindSva(dev, rig.Machine.CreateProcess().Mm).Pasid);
    }

    [Fact]
    public void Bind_fails_with_eopnotsupp_without_domain_alloc_sva_and_changes_nothing()
    {
        var rig = new Rig(svaOnA: false);
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;

        AssertErrno(Errno.EOPNOTSUPP, () => rig.Core.BindSva(dev, mm));

        AssertUnchanged(rig, mm, dev, frames);
    }

    [Fact]
    public void Bind_fails_with_enospc_for_a_device_without_pasid_and_eoverflow_beyond_its_width()
    {
        var rig = new Rig();
        var wide = rig.AddDevice(1);
        var none = rig.AddDevice(2, pasidBits: 0);
        var narrow = rig.AddDevice(3, pasidBits: 1); // PASIDs 0 and 1 only
        var mm1 = rig.Machine.CreateProcess().Mm;
        var mm2 = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;

        AssertErrno(Errno.ENOSPC, () => rig.Core.BindSva(none, mm1));
        AssertUnchanged(rig, mm1, none, frames);

        rig.Core.BindSva(wide, mm1); // PASID 1
        var bond2 = rig.Core.BindSva(wide, mm2); // PASID 2
        AssertErrno(Errno.EOVERFLOW, () => rig.Core.BindSva(narrow, mm2));
        Assert.Null(rig.Core.GetPasidDomain(narrow, bond2.Pasid));
        Assert.Single(rig.Core.SvaDomainsOf(mm2));

        var mm3 = rig.Machine.CreateProcess().Mm;
        AssertErrno(Errno.ENOSPC, () => rig.Core.BindSva(narrow, mm3)); // PASID 1 is mm1's
        Assert.Null(rig.Core.SvaPasidOf(mm3));
        Assert.Equal(2, rig.Core.GlobalPasids.Count);
    }

    [Fact]
    public void Bind_fails_with_ebusy_when_the_pasid_holds_another_domain_and_changes_nothing()
    {
        var rig = new Rig();
        var dev = rig.AddDevice(1);
        var paging = rig.Core.AllocPagingDomain(dev, 0, default);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(1), paging));
        var mm = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;

        AssertErrno(Errno.EBUSY, () => rig.Core.BindSva(dev, mm));

        Assert.Same(paging, rig.Core.GetPasidDomain(dev, new Pasid(1)));
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(frames, rig.Machine.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void A_pasid_held_by_an_sva_bond_cannot_be_taken_by_another_domain()
    {
        var rig = new Rig();
        var dev = rig.AddDevice(1);
        var bond = rig.Core.BindSva(dev, rig.Machine.CreateProcess().Mm);
        var paging = rig.Core.AllocPagingDomain(dev, 0, default);

        Assert.Equal(Errno.EBUSY, rig.Core.SetPasid(dev, bond.Pasid, paging));

        Assert.Same(bond.Domain, rig.Core.GetPasidDomain(dev, bond.Pasid));
        bond.Unbind();
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, bond.Pasid, paging));
    }

    [Fact]
    public void A_failing_set_dev_pasid_frees_the_new_domain_and_returns_the_pasid()
    {
        var rig = new Rig();
        var dev = rig.AddDevice(1, name: "refuse");
        var mm = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;

        AssertErrno(Errno.ENOSPC, () => rig.Core.BindSva(dev, mm));

        Assert.Single(rig.A.Calls, c => c.StartsWith("free", StringComparison.Ordinal));
        AssertUnchanged(rig, mm, dev, frames);
        Assert.Equal(0, mm.MmuNotifierCount);
    }

    [Fact]
    public void Bind_fails_with_enodev_for_a_device_of_another_core()
    {
        var rig = new Rig();
        var otherRig = new Rig();
        var foreign = otherRig.AddDevice(1);

        AssertErrno(Errno.ENODEV, () => rig.Core.BindSva(foreign, rig.Machine.CreateProcess().Mm));
    }

    private static void AssertUnchanged(Rig rig, UserAddressSpace mm, IommuDevice dev, long frames)
    {
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
        Assert.Null(rig.Core.SvaPasidOf(mm));
        Assert.Empty(rig.Core.SvaDomainsOf(mm));
        Assert.Empty(rig.Core.GetAttachedPasids(dev));
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(frames, rig.Machine.Memory.Frames.AllocatedFrames);
    }

    private static void AssertErrno(Errno expected, Action action) =>
        Assert.Equal(expected, Assert.Throws<IoasidException>(action).Errno);

    private sealed class Rig
    {
        public Rig(bool svaOnA = true)
        {
            Machine = new Machine(256UL << 20);
            A = new SvaTestDriver(Core, "a", svaOnA, pci => pci.Rid.Bus < 0x80);
            B = new SvaTestDriver(Core, "b", sva: true, pci => pci.Rid.Bus >= 0x80);
            Core.RegisterDriver(A.Ops);
            Core.RegisterDriver(B.Ops);
        }

        public Machine Machine { get; }

        public IommuCore Core { get; } = new();

        public SvaTestDriver A { get; }

        public SvaTestDriver B { get; }

        public IommuDevice AddDevice(byte bus, int pasidBits = 8, string name = "dev") =>
            Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, pasidBits: pasidBits));
    }

    /// <summary>A driver whose domains keep no tables: set_dev_pasid records, and refuses devices named "refuse" with ENOSPC.</summary>
    private sealed class SvaTestDriver
    {
        public SvaTestDriver(IommuCore core, string name, bool sva, Func<PciDevice, bool> claims)
        {
            var unit = new Unit(name + "0");
            Blocked = new Domain(this, IommuDomainType.Blocked);
            Ops = new IommuOps
            {
                Name = name,
                ProbeDevice = device => claims(device.Pci) ? unit : throw new IoasidException(Errno.ENODEV, "not mine"),
                DeviceGroup = core.Groups.PciDeviceGroup,
                DomainAllocPaging = _ => new Domain(this, IommuDomainType.Unmanaged),
                BlockedDomain = Blocked,
                DomainAllocSva = !sva ? null : (device, mm) =>
                {
                    Allocations[mm] = Allocations.GetValueOrDefault(mm) + 1;
                    Assert.NotNull(mm.CpuPageTable); // the core builds the CPU table before the driver needs it
                    return new Domain(this, IommuDomainType.Sva);
                },
            };
        }

        public IommuOps Ops { get; }

        public Domain Blocked { get; }

        public List<string> Calls { get; } = new();

        public Dictionary<UserAddressSpace, int> Allocations { get; } = new();

        internal sealed class Unit(string name) : IommuUnit(name);

        internal sealed class Domain : IommuDomain
        {
            public Domain(SvaTestDriver driver, IommuDomainType type)
                : base(type, CreateOps(driver))
            {
                if (type == IommuDomainType.Unmanaged)
                {
                    PageSizeBitmap = 1UL << 12;
                }
            }

            private static DomainOps CreateOps(SvaTestDriver driver) => new()
            {
                AttachDev = (domain, device, old) => domain.Type == IommuDomainType.Sva ? Errno.EINVAL : Errno.None,
                SetDevPasid = (domain, device, pasid, old) =>
                {
                    if (device.Pci.Name == "refuse" && domain.Type == IommuDomainType.Sva)
                    {
                        return Errno.ENOSPC;
                    }

                    driver.Calls.Add($"set_dev_pasid {device.Pci.Name} {pasid} {domain.Handle}");
                    return Errno.None;
                },
                MapPages = (IommuDomain d, Iova i, PhysAddr p, ulong s, ulong c, IommuProt prot, out ulong mapped) =>
                {
                    mapped = s * c;
                    return Errno.None;
                },
                UnmapPages = (d, i, s, c, g) => s * c,
                IovaToPhys = (IommuDomain d, Iova i, out PhysAddr p) =>
                {
                    p = default;
                    return false;
                },
                Free = domain => driver.Calls.Add($"free {domain.Handle}"),
            };
        }
    }
}
