using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>Translation, faults and superpages through the public API (drivers.md §5 invariants 1–11).</summary>
public class VtdTranslationTests
{
    [Fact]
    public void Map_translates_in_hardware_and_in_iova_to_phys_alike()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x20_0000, 0x8000_0000, 3 * M2 + 5 * K4);
        for (ulong off = 0; off < 3 * M2 + 5 * K4; off += 0x1_1000)
        {
            var r = Translate(dev, 0x20_0000 + off);
            Assert.True(r.IsSuccess);
            Assert.True(IommuCore.IovaToPhys(domain, new Iova(0x20_0000 + off), out var pa));
            Assert.Equal(pa, r.Address);
            Assert.Equal(0x8000_0000 + off, pa.Value);
        }
    }

    [Fact]
    public void Misaligned_map_is_einval_and_mapping_over_a_mapping_is_refused_leaving_it_intact()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        Assert.Equal(Errno.EINVAL, rig.Core.Map(domain, new Iova(0x1800), new PhysAddr(0x5000), K4, RW));
        rig.Map(domain, 0x1000, 0x5000, K4);
        Assert.NotEqual(Errno.None, rig.Core.Map(domain, new Iova(0x1000), new PhysAddr(0x9000), K4, RW));
        Assert.Equal(0x5000UL, Translate(dev, 0x1000).Address.Value);
    }

    [Fact]
    public void Unmap_and_sync_make_a_cached_address_fault_while_unmap_without_sync_leaves_a_stale_hit_the_checker_reports()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x10_0000, 0x30_0000, 2 * K4);
        Assert.True(Translate(dev, 0x10_0000).IsSuccess);
        Assert.True(Translate(dev, 0x10_1000).IsSuccess);

        // unmap_pages without iotlb_sync: the PTE is gone, the IOTLB still has it
        var gather = new IotlbGather();
        Assert.Equal(K4, domain.Ops.UnmapPages!(domain, new Iova(0x10_0000), K4, 1, gather));
        var stale = Translate(dev, 0x10_0000);
        Assert.True(stale.IsSuccess && stale.IotlbHit);
        var report = Assert.Single(rig.Hardware.StaleChecker.Reports);
        Assert.Equal(dev.Rid, report.Rid);
        Assert.Equal(0x10_0000UL, report.Iova.Value);
        Assert.Equal(0x30_0000UL, report.Cached.OutputBase.Value);
        Assert.Null(report.Current);

        // the sync sends a PSI: now it faults, and the neighbour still translates
        gather.Sync(domain);
        var fault = Translate(dev, 0x10_0000);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(fault));
        Assert.True(Translate(dev, 0x10_1000).IsSuccess);
        Assert.Single(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Read_only_write_only_and_level_permissions_fault_with_5h_and_6h()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x1000, 0x5000, K4, IommuProt.Read);
        rig.Map(domain, 0x2000, 0x6000, K4, IommuProt.Write);
        Assert.True(Translate(dev, 0x1000, DmaAccess.Read).IsSuccess);
        Assert.Equal(VtdFaultReason.WriteNotPermitted, Code(Translate(dev, 0x1000, DmaAccess.Write)));
        Assert.True(Translate(dev, 0x2000, DmaAccess.Write).IsSuccess);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, 0x2000, DmaAccess.Read)));

        // permissions AND across levels: clear W in the level-4 entry by hand (and flush), a RW leaf becomes read-only
        rig.Map(domain, 0x3000, 0x7000, K4);
        ulong l4 = domain.Root.Value;
        rig.Memory.WriteU64(new PhysAddr(l4), rig.ReadU64(l4) & ~SlPte.Write);
        rig.Unit.Submit(InvalidationDescriptor.IotlbGlobal());
        rig.Unit.Flush();
        Assert.True(Translate(dev, 0x3000, DmaAccess.Read).IsSuccess);
        Assert.Equal(VtdFaultReason.WriteNotPermitted, Code(Translate(dev, 0x3000, DmaAccess.Write)));
    }

    [Theory]
    [InlineData(3, 1UL << 39)]
    [InlineData(4, 1UL << 48)]
    public void An_iova_beyond_the_address_width_faults_4h(int levels, ulong beyond)
    {
        var rig = new VtdRig(new VtdCapabilities { SecondStageLevels = [levels] });
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        Assert.Equal(levels, domain.Levels);
        Assert.Equal(beyond - 1, domain.Geometry.ApertureEnd.Value);
        var r = Translate(dev, beyond);
        Assert.Equal(VtdFaultReason.AddressBeyondWidth, Code(r));
        Assert.Equal(FaultReason.AddressSize, r.Fault);
    }

    [Fact]
    public void A_five_level_unit_translates_57_bit_iovas_and_faults_4h_beyond()
    {
        var rig = new VtdRig(new VtdCapabilities { SecondStageLevels = [4, 5], MaxGuestAddressWidth = 57 });
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        Assert.Equal(5, domain.Levels);
        Assert.Equal(3UL << 2, VtdIommuDriver.DataOf(dev).ReadPasidEntry(0).Q0 & (7UL << 2)); // AW 3
        rig.Map(domain, 1UL << 55, 0x5000, K4);
        Assert.Equal(0x5123UL, Translate(dev, (1UL << 55) + 0x123).Address.Value);
        Assert.Equal(VtdFaultReason.AddressBeyondWidth, Code(Translate(dev, 1UL << 57)));
    }

    [Fact]
    public void A_2m_aligned_map_writes_one_ps_leaf_and_a_partial_unmap_removes_the_whole_superpage()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000_0000 + M2, 0x8000_0000, M2);
        Assert.Equal(1, domain.LeafEntriesWritten);
        ulong l3 = rig.ReadU64(domain.Root.Value) & SlPte.AddressMask;
        ulong l2 = rig.ReadU64(l3 + 8) & SlPte.AddressMask;
        Assert.Equal(0x8000_0083UL, rig.ReadU64(l2 + 8)); // R | W | PS at level 2
        Assert.True(Translate(dev, 0x4000_0000 + M2 + 0x1_2345).IsSuccess);
        Assert.Equal(M2, Translate(dev, 0x4000_0000 + M2).Length);

        // a 4 KiB unmap in the middle: the kernel's VT-d driver removes the whole 2 MiB and says so
        ulong unmapped = rig.Core.Unmap(domain, new Iova(0x4000_0000 + M2 + 0x10_0000), K4);
        Assert.Equal(M2, unmapped);
        Assert.Equal(0UL, rig.ReadU64(l2 + 8));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, 0x4000_0000 + M2)));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, 0x4000_0000 + M2 + M2 - K4)));
    }

    [Fact]
    public void One_gib_at_2m_alignment_writes_512_leaves_and_at_1g_alignment_with_1g_pages_one()
    {
        var rig = new VtdRig(memorySize: 8UL << 30);
        var dev = rig.AddDevice(1);
        var d2m = rig.Attach(dev);
        rig.Map(d2m, G1, G1 + M2, G1); // pa only 2 MiB aligned
        Assert.Equal(512, d2m.LeafEntriesWritten);

        var d1g = rig.Attach(dev, rig.AllocDomain(dev));
        rig.Map(d1g, G1, 2 * G1, G1);
        Assert.Equal(1, d1g.LeafEntriesWritten);
        Assert.Equal(2 * G1 + 0x1234, Translate(dev, G1 + 0x1234).Address.Value);
        Assert.Equal(G1, Translate(dev, G1).Length);

        var no1g = new VtdRig(new VtdCapabilities { SecondStage1G = false }, memorySize: 8UL << 30);
        var dev2 = no1g.AddDevice(1);
        var d = no1g.Attach(dev2);
        no1g.Map(d, G1, 2 * G1, G1);
        Assert.Equal(512, d.LeafEntriesWritten);
    }

    [Fact]
    public void Blocked_faults_all_rid_dma_and_identity_passes_addresses_through()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        Assert.Same(rig.Driver.Blocked, rig.Core.GetDomain(dev));
        Assert.Equal(FaultReason.NoEntry, Translate(dev, 0x1000).Fault); // no PASID table page yet: 51h
        Assert.Equal(Errno.None, rig.Core.SetGroupDomain(dev.Group, rig.Driver.Identity));
        foreach (ulong a in new ulong[] { 0, 0x1234_5678, 0xF000_0000 })
        {
            Assert.Equal(a, Translate(dev, a, DmaAccess.Write).Address.Value);
        }

        Assert.Equal(0x109UL, VtdIommuDriver.DataOf(dev).ReadPasidEntry(0).Q0);
    }

    [Fact]
    public void Replacing_a_domain_switches_every_translation_to_the_new_one()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var a = rig.Attach(dev);
        var b = rig.AllocDomain(dev);
        rig.Map(a, 0x1000, 0xA000, K4);
        rig.Map(b, 0x1000, 0xB000, K4);
        Assert.Equal(0xA000UL, Translate(dev, 0x1000).Address.Value); // cached under A's DID
        rig.Attach(dev, b);
        Assert.Equal(0xB000UL, Translate(dev, 0x1000).Address.Value);
        Assert.False(rig.Unit.DomainIds.IsAllocated(2)); // A's DID went with its last slot
    }

    [Fact]
    public void A_failed_attach_leaves_the_previous_domain_in_effect()
    {
        var rig = new VtdRig();
        var three = rig.AddSecondUnit(new VtdCapabilities { SecondStageLevels = [3] });
        var big = rig.AddDevice(1);
        var small = rig.AddDevice(0x81);
        var a = rig.Attach(small);
        rig.Map(a, 0x1000, 0xA000, K4);
        Assert.True(Translate(small, 0x1000).IsSuccess);
        var fourLevel = rig.AllocDomain(big); // 4-level: the 3-level unit cannot walk it
        Assert.Equal(Errno.EINVAL, rig.Core.SetGroupDomain(small.Group, fourLevel));
        Assert.Same(a, rig.Core.GetDomain(small));
        Assert.Equal(0xA000UL, Translate(small, 0x1000).Address.Value);
        Assert.Equal(3, three.Levels);
    }

    [Fact]
    public void Devices_in_different_domains_never_see_each_others_mappings_and_a_shared_domain_is_invalidated_by_tag()
    {
        var rig = new VtdRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var d3 = rig.AddDevice(3);
        var shared = rig.Attach(d1);
        rig.Attach(d2, shared);
        var other = rig.Attach(d3);
        rig.Map(shared, 0x1000, 0xA000, K4);
        rig.Map(other, 0x2000, 0xB000, K4);
        Assert.False(Translate(d3, 0x1000).IsSuccess);
        Assert.False(Translate(d1, 0x2000).IsSuccess);
        Assert.True(Translate(d1, 0x1000).IsSuccess);
        Assert.True(Translate(d2, 0x1000).IsSuccess);
        rig.Core.Unmap(shared, new Iova(0x1000), K4);
        Assert.False(Translate(d1, 0x1000).IsSuccess);
        Assert.False(Translate(d2, 0x1000).IsSuccess);
        Assert.True(Translate(d3, 0x2000).IsSuccess);
    }

    [Fact]
    public void Output_in_the_interrupt_window_is_blocked()
    {
        var rig = new VtdRig(memorySize: 8UL << 30);
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x1000, VtdIommuHardware.InterruptWindowStart, K4);
        Assert.Equal(VtdFaultReason.ScalableInterruptRange, Code(Translate(dev, 0x1000)));
    }
}
