using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Tests.Iommu;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>IOMMU_HWPT_ALLOC (paging and nested), PASID compatibility, HWPT_INVALIDATE and GET_HW_INFO (spec §3.11–3.15, §7, §8).</summary>
public sealed class HwptTests : IDisposable
{
    private readonly CoreFixture _f = new();
    private readonly IommuCore _core = new();
    private readonly TestDriver _driver;
    private readonly TestDriver _plain;
    private readonly Ioas _ioas;

    public HwptTests()
    {
        // "plain" (bus 0x20 and above) has no nesting and no flags op beyond the defaults.
        _driver = new TestDriver(_core, "test", claims: pci => pci.Rid.Bus < 0x20);
        _plain = new TestDriver(_core, "plain", claims: pci => pci.Rid.Bus >= 0x20, nested: false);
        _core.RegisterDriver(_driver.Ops);
        _core.RegisterDriver(_plain.Ops);
        _ioas = _f.Context.AllocIoas();
    }

    public void Dispose() => _f.Dispose();

    private IommufdDevice Bind(string name, byte bus, int pasidBits = 8) =>
        _f.Context.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), name, acs: true, upstream: null, pasidBits)));

    private static byte[] Stage1(ulong root) => BitConverter.GetBytes(root);

    [Fact]
    public void A_pasid_cannot_attach_to_an_ioas_or_to_a_hwpt_without_the_pasid_flag()
    {
        var gpu = Bind("gpu", 1);
        var plain = _f.Context.AllocHwptPaging(gpu, _ioas.Id);
        var compatible = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.Pasid);

        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Attach(_ioas.Id, new Pasid(1)));
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Attach(plain.Id, new Pasid(1)));
        Assert.Empty(gpu.AttachedPasids);

        Assert.Same(compatible, gpu.Attach(compatible.Id, new Pasid(1)));
        Assert.True(compatible.IsPasidCompatible);
        Assert.False(plain.IsPasidCompatible);
        // Replacing the PASID with an IOAS is refused too, and the old HWPT stays.
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Replace(_ioas.Id, new Pasid(1)));
        Assert.Same(compatible, gpu.GetHwpt(new Pasid(1)));
    }

    [Fact]
    public void Rid_and_pasids_must_agree_on_pasid_compatibility()
    {
        var gpu = Bind("gpu", 1);
        var compatible = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.Pasid);

        // The RID on an automatic (never PASID-compatible) HWPT blocks PASID attach.
        var auto = gpu.Attach(_ioas.Id);
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Attach(compatible.Id, new Pasid(2)));

        gpu.Replace(compatible.Id);
        Assert.True(auto.IsDestroyed);
        gpu.Attach(compatible.Id, new Pasid(2));

        // With a PASID attached, the RID cannot move back to a non-compatible HWPT; it stays where it was.
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Replace(_ioas.Id));
        Assert.Same(compatible, gpu.Hwpt);

        // Detaching the RID leaves the PASID, and a later RID attach must again be compatible.
        gpu.Detach();
        Assert.Same(compatible, gpu.GetHwpt(new Pasid(2)));
        ErrnoAssert.Throws(Errno.EINVAL, () => gpu.Attach(_ioas.Id));
        Assert.Same(compatible, gpu.Attach(compatible.Id));
    }

    [Fact]
    public void A_device_without_pasid_support_may_use_a_pasid_hwpt_only_on_its_rid()
    {
        var nic = Bind("nic", 1, pasidBits: 0);
        var compatible = _f.Context.AllocHwptPaging(nic, _ioas.Id, HwptAllocFlags.Pasid);

        ErrnoAssert.Throws(Errno.EINVAL, () => nic.Attach(compatible.Id, new Pasid(1)));
        Assert.Same(compatible, nic.Attach(compatible.Id));
    }

    [Fact]
    public void Paging_hwpt_alloc_checks_flags_and_data_in_the_kernels_order()
    {
        var gpu = Bind("gpu", 1);
        var objects = _f.Context.ObjectCount;

        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, dataType: 5));
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, data: new byte[8]));
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptPaging(gpu, gpu.Id));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, (HwptAllocFlags)0x10));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.DirtyTracking)); // no dirty capability
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.FaultIdValid | HwptAllocFlags.NestParent));
        ErrnoAssert.Throws(Errno.ENOENT, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.FaultIdValid));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.None, 9, new byte[8])); // the driver takes no data
        Assert.Equal(objects, _f.Context.ObjectCount);

        var parent = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent);
        Assert.True(parent.IsNestParent);
        Assert.False(parent.IsAuto);
        Assert.Contains("alloc paging 0x1", _driver.Calls);
    }

    [Fact]
    public void A_nested_hwpt_sits_on_a_nest_parent_which_it_holds()
    {
        var gpu = Bind("gpu", 1);
        var parent = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent);

        var nested = _f.Context.AllocHwptNested(gpu, parent.Id, HwptAllocFlags.None, TestDriver.NestedDataType, Stage1(0x1234_5000));

        Assert.Equal(ObjectKind.HwptNested, nested.Kind);
        Assert.Same(parent, nested.Parent);
        Assert.Same(_ioas, nested.Ioas);
        Assert.Equal(IommuDomainType.Nested, nested.Domain.Type);
        var domain = (TestDriver.TestNestedDomain)nested.Domain;
        Assert.Same(parent.Domain, domain.Parent);
        Assert.Equal(0x1234_5000UL, domain.Stage1Root);
        ErrnoAssert.Throws(Errno.EBUSY, () => _f.Context.Destroy(parent.Id));

        Assert.Same(nested, gpu.Attach(nested.Id));
        Assert.Same(nested.Domain, _core.GetDomain(gpu.Device));
        gpu.Detach();
        _f.Context.Destroy(nested.Id);
        Assert.Contains("free nested", _driver.Calls);
        _f.Context.Destroy(parent.Id);
    }

    [Fact]
    public void Nested_hwpt_alloc_refuses_bad_parents_flags_and_data()
    {
        var gpu = Bind("gpu", 1);
        var other = Bind("other", 0x21);
        var plainParent = _f.Context.AllocHwptPaging(gpu, _ioas.Id);
        var parent = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent);
        var auto = Bind("auto", 2).Attach(_ioas.Id);
        var data = Stage1(0x1000);
        var objects = _f.Context.ObjectCount;

        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, _ioas.Id, 0, TestDriver.NestedDataType, data)); // not a HWPT
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, new IoasidId(999), 0, TestDriver.NestedDataType, data));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptNested(gpu, parent.Id, HwptAllocFlags.NestParent, TestDriver.NestedDataType, data));
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, parent.Id, 0, TestDriver.NestedDataType, default)); // type without data
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, plainParent.Id, 0, TestDriver.NestedDataType, data));
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, auto.Id, 0, TestDriver.NestedDataType, data));
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptNested(other, parent.Id, 0, TestDriver.NestedDataType, data)); // no nesting op
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => _f.Context.AllocHwptNested(gpu, parent.Id, 0, 1, data)); // unknown data type (driver)
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, parent.Id, 0, TestDriver.NestedDataType, new byte[4])); // short (driver)
        Assert.Equal(objects, _f.Context.ObjectCount);
        Assert.Equal(1, parent.Users);

        var nested = _f.Context.AllocHwptNested(gpu, parent.Id, 0, TestDriver.NestedDataType, data);
        ErrnoAssert.Throws(Errno.EINVAL, () => _f.Context.AllocHwptNested(gpu, nested.Id, 0, TestDriver.NestedDataType, data)); // no nesting on nesting
    }

    [Fact]
    public void Invalidate_goes_to_a_nested_domain_and_reports_how_many_entries_were_handled()
    {
        var gpu = Bind("gpu", 1);
        var parent = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent);
        var nested = _f.Context.AllocHwptNested(gpu, parent.Id, 0, TestDriver.NestedDataType, Stage1(0x1000));
        var domain = (TestDriver.TestNestedDomain)nested.Domain;
        var entries = new byte[24];
        BitConverter.GetBytes(0xA000UL).CopyTo(entries, 0);
        BitConverter.GetBytes(0xB000UL).CopyTo(entries, 8);
        // the third entry is 0, which the test driver refuses

        var error = ErrnoAssert.Throws(Errno.EINVAL, () => nested.Invalidate(TestDriver.NestedDataType, entries, 8, 3, out _));
        nested.Invalidate(TestDriver.NestedDataType, entries.AsSpan(0, 8), 8, 1, out var handled);
        uint handledOnError = 99;
        Assert.Throws<IoasidException>(() => nested.Invalidate(TestDriver.NestedDataType, entries, 8, 3, out handledOnError));

        Assert.Contains("after 2 of 3", error.Message);
        Assert.Equal(2u, handledOnError);
        Assert.Equal(1u, handled);
        Assert.Equal([0xA000UL, 0xB000UL, 0xA000UL, 0xA000UL, 0xB000UL], domain.Invalidations);
        ErrnoAssert.Throws(Errno.EINVAL, () => parent.Invalidate(TestDriver.NestedDataType, entries, 8, 1, out _)); // a paging HWPT
        ErrnoAssert.Throws(Errno.EINVAL, () => nested.Invalidate(TestDriver.NestedDataType, entries, 8, 4, out _)); // 32 bytes asked, 24 given
        nested.Invalidate(TestDriver.NestedDataType, default, 0, 0, out var probed); // a support probe
        Assert.Equal(0u, probed);
    }

    [Fact]
    public void A_nested_attach_enforces_the_parent_ioas_reserved_regions()
    {
        var gpu = Bind("gpu", 1);
        var va = _f.Process.Mm.Map(0x1000);
        _f.Process.MemlockLimit = 1UL << 20;
        _ioas.Map(va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0xFEE0_0000));
        _driver.ReservedRegions["gpu"] = [new ReservedRegion(new Iova(0xFEE0_0000), 0x10_0000, ReservedRegionType.Msi)];
        var parent = _f.Context.AllocHwptPaging(gpu, _ioas.Id, HwptAllocFlags.NestParent);
        var nested = _f.Context.AllocHwptNested(gpu, parent.Id, 0, TestDriver.NestedDataType, Stage1(0x1000));

        ErrnoAssert.Throws(Errno.EADDRINUSE, () => gpu.Attach(nested.Id));
        Assert.Null(gpu.Hwpt);
    }

    [Fact]
    public void Hw_info_without_a_driver_op_is_type_none_with_the_pasid_width()
    {
        var gpu = Bind("gpu", 1, pasidBits: 20);
        var nic = Bind("nic", 2, pasidBits: 0);

        var info = gpu.GetHwInfo();

        Assert.Equal(0u, info.Type);
        Assert.Empty(info.Data);
        Assert.Equal(HwInfoCapabilities.None, info.Capabilities);
        Assert.Equal(20, info.MaxPasidLog2);
        Assert.Equal(0, nic.GetHwInfo().MaxPasidLog2);
        ErrnoAssert.Throws(Errno.EOPNOTSUPP, () => gpu.GetHwInfo(requestedType: 1));
    }
}
