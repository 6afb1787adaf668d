using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Tests.Iommu;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>Every domain of an IOAS mirrors all its mappings, pinning pages once as they are filled (spec §4.6, §5).</summary>
public sealed class IoasDomainTests : IDisposable
{
    private const IoasMapFlags FixedRw = IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite;
    private readonly CoreFixture _f = new();
    private readonly IommuCore _core = new();
    private readonly TestDriver _driver;
    private readonly IommuDevice _device;
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public IoasDomainTests()
    {
        _driver = new TestDriver(_core);
        _core.RegisterDriver(_driver.Ops);
        _device = _core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic"));
        _ioas = _f.Context.AllocIoas();
        _va = _f.Process.Mm.Map(8UL << 20, hugePages: true);
        _f.Process.MemlockLimit = 64UL << 20;
    }

    public void Dispose() => _f.Dispose();

    private TestDriver.TestDomain NewDomain() => (TestDriver.TestDomain)_core.AllocPagingDomain(_device, 0, default);

    private PhysAddr Frame(ulong va)
    {
        Assert.True(_f.Process.Mm.TryGetFrame(va, out var frame));
        return frame;
    }

    [Fact]
    public void A_domain_added_later_is_filled_with_existing_mappings_and_pins_them()
    {
        _ioas.Map(_va, 0x3000, FixedRw, new Iova(0x10000));
        Assert.Equal(0, _f.Process.Mm.PinnedVm); // no domain, no access: nothing pinned yet

        var domain = NewDomain();
        _ioas.AddDomain(domain, _core);

        Assert.Equal(3, _f.Process.Mm.PinnedVm);
        Assert.Equal(3, _f.Process.User.LockedVm);
        Assert.True(IommuCore.IovaToPhys(domain, new Iova(0x11234), out var pa));
        Assert.Equal(Frame(_va + 0x1000) + 0x234, pa);
        Assert.Equal(1, _f.Machine.Memory.PinCount(Frame(_va)));
        Assert.All(domain.Table.Values, e => Assert.Equal(IommuProt.Read | IommuProt.Write | IommuProt.Cache, e.Prot));
    }

    [Fact]
    public void Two_domains_mirror_every_map_and_unmap_but_pages_are_pinned_once()
    {
        var a = NewDomain();
        var b = NewDomain();
        _ioas.AddDomain(a, _core);
        _ioas.AddDomain(b, _core);

        _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));
        _ioas.Map(_va + 0x4000, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x20000));

        Assert.Equal(a.Table.Keys, b.Table.Keys);
        Assert.Equal(IommuProt.Read | IommuProt.Cache, a.Table[0x20000].Prot);
        Assert.Equal(3, _f.Process.Mm.PinnedVm);
        Assert.Equal(1, _f.Machine.Memory.PinCount(Frame(_va)));

        _ioas.Unmap(new Iova(0x10000), 0x2000);
        Assert.Equal([0x20000ul], a.Table.Keys);
        Assert.Equal([0x20000ul], b.Table.Keys);
        Assert.Equal(1, _f.Process.Mm.PinnedVm);

        _ioas.RemoveDomain(a);
        Assert.Equal(1, _f.Process.Mm.PinnedVm); // b still holds it
        Assert.Empty(a.Table);
        _ioas.RemoveDomain(b);
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);
        Assert.Equal(0, _f.Machine.Memory.PinCount(Frame(_va + 0x4000)));
    }

    [Fact]
    public void Contiguous_huge_page_memory_is_mapped_with_large_pages_unless_disabled()
    {
        var domain = NewDomain();
        _ioas.AddDomain(domain, _core);

        _ioas.Map(_va, 2UL << 20, FixedRw, new Iova(0x4000_0000));
        var entry = Assert.Single(domain.Table);
        Assert.Equal(2UL << 20, entry.Value.Size);

        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.SetHugePages(false)); // a domain and a mapping
        _ioas.UnmapAll();
        _ioas.SetHugePages(false);
        _ioas.Map(_va, 2UL << 20, FixedRw, new Iova(0x4000_0000));
        Assert.Equal(512, domain.Table.Count);
        Assert.All(domain.Table.Values, e => Assert.Equal(AddressMath.PageSize, e.Size));
    }

    [Fact]
    public void A_map_that_cannot_pin_fails_whole()
    {
        _ioas.AddDomain(NewDomain(), _core);

        ErrnoAssert.Throws(Errno.EFAULT, () => _ioas.Map(0x1000_0000_0000, 0x2000, FixedRw, new Iova(0x10000)));
        Assert.Equal(0, _ioas.AreaCount);

        _f.Process.MemlockLimit = 0x1000;
        ErrnoAssert.Throws(Errno.ENOMEM, () => _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000)));
        Assert.Equal(0, _ioas.AreaCount);
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);
    }

    [Fact]
    public void Adding_a_domain_that_cannot_be_filled_changes_nothing()
    {
        _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000));
        _ioas.Map(0x1000_0000_0000, 0x1000, FixedRw, new Iova(0x20000)); // not backed: pinning fails
        var domain = NewDomain();
        domain.SetAperture(0x1000, 0xffff_ffff);

        ErrnoAssert.Throws(Errno.EFAULT, () => _ioas.AddDomain(domain, _core));

        Assert.Empty(domain.Table);
        Assert.Equal([IovaRange.All], _ioas.GetIovaRanges());
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(1ul, _ioas.IovaAlignment);
    }

    [Fact]
    public void The_aperture_is_reserved_and_may_not_cut_into_mappings()
    {
        var domain = NewDomain();
        domain.SetAperture(1UL << 24, (1UL << 31) - 1); // the kernel selftest mock's aperture
        _ioas.AddDomain(domain, _core);

        Assert.Equal([new IovaRange(new Iova(1UL << 24), new Iova((1UL << 31) - 1))], _ioas.GetIovaRanges());
        Assert.Equal(0x1000ul, _ioas.IovaAlignment);
        ErrnoAssert.Throws(Errno.EINVAL, () => _ioas.Map(_va, 0x1000, FixedRw, new Iova(0x10000)));
        Assert.Equal(new Iova(1UL << 24), _ioas.Map(_va, 0x1000, IoasMapFlags.ReadWrite));

        _ioas.RemoveDomain(domain);
        Assert.Equal([IovaRange.All], _ioas.GetIovaRanges());

        var second = NewDomain();
        second.SetAperture(1UL << 32, ulong.MaxValue);
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => _ioas.AddDomain(second, _core));
    }

    [Fact]
    public void A_domain_raises_the_alignment_and_refuses_unaligned_mappings()
    {
        _ioas.Map(_va + 0x10, 0x100, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(0x10010));
        ErrnoAssert.Throws(Errno.EADDRINUSE, () => _ioas.AddDomain(NewDomain(), _core));
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
    }

    [Fact]
    public void Copy_into_an_ioas_with_a_domain_maps_the_shared_pages()
    {
        var domain = NewDomain();
        var dst = _f.Context.AllocIoas();
        dst.AddDomain(domain, _core);
        _ioas.Map(_va, 0x2000, FixedRw, new Iova(0x10000));

        dst.CopyFrom(_ioas, new Iova(0x10000), 0x2000, FixedRw, new Iova(0x50000));

        Assert.True(IommuCore.IovaToPhys(domain, new Iova(0x51000), out var pa));
        Assert.Equal(Frame(_va + 0x1000), pa);
        Assert.Equal(2, _f.Process.Mm.PinnedVm);
    }

    [Fact]
    public void Mapping_into_a_domain_allocates_nothing_per_page_once_warm()
    {
        _ioas.AddDomain(NewDomain(), _core);
        void Cycle()
        {
            _ioas.Map(_va, 4UL << 20, FixedRw, new Iova(0x4000_0000));
            _ioas.Unmap(new Iova(0x4000_0000), 4UL << 20);
        }

        Cycle();
        Cycle();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 4; i++)
        {
            Cycle();
        }

        // 4 cycles of 1,024 pages: only per-mapping objects (area, pages), never per-page state.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 8 * 1024);
    }

    [Fact]
    public void Closing_the_context_unpins_domain_pins()
    {
        var domain = NewDomain();
        _ioas.AddDomain(domain, _core);
        _ioas.Map(_va, 0x4000, FixedRw, new Iova(0x10000));
        _ioas.RemoveDomain(domain);
        _ioas.AddDomain(domain, _core);
        Assert.Equal(4, _f.Process.Mm.PinnedVm);

        _ioas.RemoveDomain(domain);
        _f.Context.Dispose();
        Assert.Equal(0, _f.Process.Mm.PinnedVm);
        Assert.Equal(0, _f.Process.User.LockedVm);
    }
}
