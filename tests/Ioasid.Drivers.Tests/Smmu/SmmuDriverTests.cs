using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>The driver-ops invariants of drivers.md §5 (1–15) through the SMMUv3 driver and hardware.</summary>
public class SmmuDriverTests
{
    private const ulong K4 = 0x1000;
    private const ulong M2 = 0x20_0000;

    private static (SmmuRig Rig, IommuDevice Dev, SmmuPagingDomain Domain) Attached(int pasidBits = 0)
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        return (rig, dev, domain);
    }

    [Fact]
    public void Mapped_dma_translates_through_hardware_and_software_walks_alike()
    {
        var (rig, dev, domain) = Attached();
        rig.Map(domain, 0x10_0000, 0x20_3000, 5 * K4);
        for (ulong off = 0; off < 5 * K4; off += 0x800)
        {
            var r = rig.Translate(dev, 0x10_0000 + off, DmaAccess.ReadWrite);
            Assert.True(r.IsSuccess);
            Assert.True(IommuCore.IovaToPhys(domain, new Iova(0x10_0000 + off), out PhysAddr soft));
            Assert.Equal(soft, r.Address);
            Assert.Equal(0x20_3000 + off, r.Address.Value);
        }

        // The RID's CD table holds the domain's CD at SSID 0 and the STE points at it with S1DSS = Substream0.
        SmmuMaster master = rig.Driver.MasterOf(dev);
        Assert.Equal(domain.MakeCd(), master.CdTable!.Read(0));
        StreamTableEntry ste = rig.Driver.StreamTable.Read(master.StreamId);
        Assert.Equal((SteConfig.S1Translate, master.CdTable.Base), (ste.Config, ste.S1ContextPtr));
    }

    [Fact]
    public void Misaligned_map_fails_einval_and_map_over_a_mapping_fails_eexist_leaving_it()
    {
        var (rig, dev, domain) = Attached();
        Assert.Equal(Errno.EINVAL, rig.Core.Map(domain, new Iova(0x800), new PhysAddr(0x10_0000), K4, SmmuRig.Rw));
        Assert.Equal(Errno.EINVAL, rig.Core.Map(domain, new Iova(0x1000), new PhysAddr(0x10_0000), 0x800, SmmuRig.Rw));
        rig.Map(domain, 0x1000, 0x10_0000, K4);
        Assert.Equal(Errno.EEXIST, rig.Core.Map(domain, new Iova(0x1000), new PhysAddr(0x30_0000), K4, SmmuRig.Rw));
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
    }

    [Fact]
    public void Unmap_then_sync_makes_a_cached_translation_fault_and_tlbi_is_what_removes_it()
    {
        var (rig, dev, domain) = Attached();
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x40_0000, 0x10_0000, 4 * K4);
        Assert.True(rig.Translate(dev, 0x40_1000).IsSuccess);
        Assert.True(rig.Translate(dev, 0x40_1000).IotlbHit);
        long tlbis = rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa];

        Assert.Equal(4 * K4, rig.Core.Unmap(domain, new Iova(0x40_0000), 4 * K4));
        Assert.True(rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa] > tlbis);
        Assert.Equal(FaultReason.Translation, rig.Translate(dev, 0x40_1000).Fault);
        Assert.Equal(0, rig.Hardware.StaleChecker.StaleHits);

        // Negative control: clearing the leaf without the driver's sync leaves the cached entry in use, and the
        // stale checker reports it.
        rig.Map(domain, 0x40_0000, 0x10_0000, K4);
        Assert.True(rig.Translate(dev, 0x40_0000).IsSuccess);
        var gather = new IotlbGather();
        Assert.Equal(K4, domain.Ops.UnmapPages!(domain, new Iova(0x40_0000), K4, 1, gather));
        var stale = rig.Translate(dev, 0x40_0000);
        Assert.True(stale.IsSuccess && stale.IotlbHit);
        Assert.Equal(1, rig.Hardware.StaleChecker.StaleHits);
        gather.Sync(domain);
        Assert.False(rig.Translate(dev, 0x40_0000).IsSuccess);
    }

    [Fact]
    public void Partial_unmap_of_a_block_returns_zero_and_leaves_the_block_mapped()
    {
        var (rig, dev, domain) = Attached();
        rig.Map(domain, M2, M2, M2);
        Span<ulong> walk = stackalloc ulong[4];
        Assert.Equal(3, domain.Table.ReadWalk(new Iova(M2), walk)); // L0 table, L1 table, level-2 block
        Assert.Equal(0UL, rig.Core.Unmap(domain, new Iova(M2 + K4), K4));
        Assert.Equal(0UL, rig.Core.Unmap(domain, new Iova(M2), K4));
        Assert.True(rig.Translate(dev, M2 + 0x1_0000).IsSuccess);
        Assert.Equal(M2, rig.Core.Unmap(domain, new Iova(M2), M2));
        Assert.False(rig.Translate(dev, M2 + 0x1_0000).IsSuccess);
    }

    [Fact]
    public void Aligned_2m_maps_create_one_level2_block_and_1g_one_level1_block()
    {
        var (rig, dev, domain) = Attached();
        rig.Map(domain, 0x4000_0000, 0x0, 1UL << 30);
        rig.Map(domain, 0x8020_0000, 0x20_0000, M2);
        Span<ulong> walk = stackalloc ulong[4];
        int n = domain.Table.ReadWalk(new Iova(0x4000_1000), walk);
        Assert.Equal(2, n);                                      // L0 table, L1 block
        Assert.Equal(VmsaDescriptor.TypeBlock, walk[1] & 3);
        n = domain.Table.ReadWalk(new Iova(0x8020_1000), walk);
        Assert.Equal(3, n);                                      // L0, L1 tables, L2 block
        Assert.Equal(VmsaDescriptor.TypeBlock, walk[2] & 3);
        var r = rig.Translate(dev, 0x8020_1000);
        Assert.Equal((0x20_1000UL, M2 - K4), (r.Address.Value, r.Length));
    }

    [Fact]
    public void Read_only_s1_faults_on_write_and_write_only_s2_faults_on_read_with_f_permission()
    {
        var (rig, dev, domain) = Attached();
        rig.Map(domain, 0x1000, 0x10_0000, K4, IommuProt.Read);
        Assert.True(rig.Translate(dev, 0x1000).IsSuccess);
        var w = rig.Translate(dev, 0x1000, DmaAccess.Write);
        Assert.Equal((FaultReason.Permission, (uint)SmmuEventType.FPermission), (w.Fault, w.VendorCode));
        Assert.False(rig.LastEvent().Stage2);

        var dev2 = rig.AddDevice(2);
        var s2 = rig.AllocS2(dev2);
        rig.Attach(dev2, s2);
        rig.Map(s2, 0x2000, 0x11_0000, K4, IommuProt.Write);
        Assert.True(rig.Translate(dev2, 0x2000, DmaAccess.Write).IsSuccess);
        Assert.Equal(FaultReason.Permission, rig.Translate(dev2, 0x2000, DmaAccess.Read).Fault);
        SmmuEvent evt = rig.LastEvent();
        Assert.True(evt.Stage2);
        Assert.Equal((SmmuEventType.FPermission, rig.Sid(dev2), 0x2000UL), (evt.Type, evt.StreamId, evt.Address));
    }

    [Fact]
    public void Dma_beyond_the_input_range_is_a_translation_fault_and_output_beyond_s2ps_an_address_size_fault()
    {
        var (rig, dev, domain) = Attached();
        Assert.Equal(FaultReason.Translation, rig.Translate(dev, 1UL << 48).Fault);
        Assert.Equal(SmmuEventType.FTranslation, rig.LastEvent().Type);

        var rig40 = new SmmuRig(new IdRegisters { OutputBits = 40 });
        var dev2 = rig40.AddDevice(2);
        var s2 = rig40.AllocS2(dev2);
        rig40.Attach(dev2, s2);
        // Stage 1 bypassed: an input beyond the IAS (40 bits) is a stage-1 address-size fault.
        Assert.Equal(FaultReason.AddressSize, rig40.Translate(dev2, 1UL << 40).Fault);
        Assert.False(rig40.LastEvent().Stage2);

        // Narrow the STE's IPA size to 34 bits (S2T0SZ 30, level-1 start): an IPA beyond it is a stage-2 F_TRANSLATION.
        uint sid = rig40.Sid(dev2);
        StreamTableEntry ste = rig40.Driver.StreamTable.Read(sid);
        ste.S2T0Sz = 30;
        ste.S2Sl0 = StreamTableEntry.Stage2Sl0(TranslationGranule.Size4K, 1);
        rig40.Driver.StreamTable.Write(sid, ste);
        rig40.Driver.Commands.Add(SmmuCommand.CfgiSte(sid));
        rig40.Driver.Commands.Sync();
        Assert.Equal(FaultReason.Translation, rig40.Translate(dev2, 1UL << 35).Fault);
        Assert.True(rig40.LastEvent().Stage2);
        Assert.Equal(SmmuEventType.FTranslation, rig40.LastEvent().Type);
        Assert.Equal(Errno.ERANGE, rig40.Core.Map(s2, new Iova(0x1000), new PhysAddr(1UL << 41), K4, SmmuRig.Rw));
    }

    [Fact]
    public void Blocked_rid_aborts_silently_and_identity_rid_passes_addresses_through()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        rig.Attach(dev, rig.Driver.Blocked);
        int events = rig.Hardware.Events.Count;
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000).Fault);
        Assert.Equal(events, rig.Hardware.Events.Count);             // abort STE: no event
        rig.Attach(dev, rig.Driver.Identity);
        Assert.Equal(0x123_4560UL, rig.Translate(dev, 0x123_4560, DmaAccess.Write).Address.Value);
        Assert.Equal(SteConfig.Bypass, rig.Driver.StreamTable.Read(rig.Sid(dev)).Config);
    }

    [Fact]
    public void Replacing_the_rid_domain_switches_every_translation_at_once()
    {
        var (rig, dev, a) = Attached();
        var b = rig.AllocS1(dev);
        rig.Map(a, 0x1000, 0x10_0000, K4);
        rig.Map(b, 0x1000, 0x20_0000, K4);
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
        rig.Attach(dev, b);
        Assert.Equal(0x20_0000UL, rig.Translate(dev, 0x1000).Address.Value); // not A's cached entry: another ASID
        Assert.Equal(b.MakeCd(), rig.Driver.MasterOf(dev).CdTable!.Read(0));
        Assert.DoesNotContain((rig.Driver.MasterOf(dev), 0u), a.Installs);
    }

    [Fact]
    public void A_failed_attach_leaves_the_previous_domain_in_effect()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var s1 = rig.AllocS1(dev);
        var pasidDomain = rig.AllocS1(dev);
        rig.Attach(dev, s1);
        rig.Map(s1, 0x1000, 0x10_0000, K4);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(3), pasidDomain));
        var s2 = rig.AllocS2(dev);
        StreamTableEntry before = rig.Driver.StreamTable.Read(rig.Sid(dev));
        Assert.Equal(Errno.EBUSY, rig.Core.SetGroupDomain(dev.Group, s2)); // stage 2 on the RID with PASIDs in use
        Assert.Equal(before, rig.Driver.StreamTable.Read(rig.Sid(dev)));
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
        Assert.Same(s1, rig.Core.GetDomain(dev));
    }

    [Fact]
    public void Pasid_dma_uses_the_pasid_domain_and_faults_after_detach_while_the_rid_keeps_working()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var rid = rig.AllocS1(dev);
        var p5 = rig.AllocS1(dev);
        rig.Attach(dev, rid);
        rig.Map(rid, 0x1000, 0x10_0000, K4);
        rig.Map(p5, 0x1000, 0x20_0000, K4);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), p5));
        Assert.Equal(0x20_0000UL, rig.Translate(dev, 0x1000, pasid: 5).Address.Value);
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
        Assert.Equal(SmmuEventType.CBadCd, (SmmuEventType)rig.Translate(dev, 0x1000, pasid: 6).VendorCode); // nothing at PASID 6

        rig.Core.RemovePasid(dev, new Pasid(5));
        Assert.Equal(SmmuEventType.CBadCd, (SmmuEventType)rig.Translate(dev, 0x1000, pasid: 5).VendorCode);
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
    }

    [Fact]
    public void Devices_in_different_groups_on_different_domains_never_see_each_others_mappings()
    {
        var rig = new SmmuRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var a = rig.AllocS1(d1);
        var b = rig.AllocS1(d2);
        rig.Attach(d1, a);
        rig.Attach(d2, b);
        rig.Map(a, 0x1000, 0x10_0000, K4);
        Assert.True(rig.Translate(d1, 0x1000).IsSuccess);
        Assert.False(rig.Translate(d2, 0x1000).IsSuccess);
        Assert.NotEqual(a.Asid, b.Asid);
    }

    [Fact]
    public void A_domain_shared_by_two_masters_is_invalidated_for_both_by_its_asid()
    {
        var rig = new SmmuRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var shared = rig.AllocS1(d1);
        rig.Attach(d1, shared);
        rig.Attach(d2, shared);
        Assert.Equal(2, shared.Installs.Count);
        rig.Map(shared, 0x5000, 0x10_0000, K4);
        Assert.True(rig.Translate(d1, 0x5000).IsSuccess);
        Assert.True(rig.Translate(d2, 0x5000).IotlbHit); // same (VMID, ASID) tag: one cached entry serves both
        rig.Core.Unmap(shared, new Iova(0x5000), K4);
        Assert.Equal(FaultReason.Translation, rig.Translate(d1, 0x5000).Fault);
        Assert.Equal(FaultReason.Translation, rig.Translate(d2, 0x5000).Fault);
    }

    [Fact]
    public void A_domain_of_one_smmu_cannot_be_attached_through_another()
    {
        var rig = new SmmuRig(map: new StreamIdMap().Add(0x100, 0x100, 0x100));
        var other = new SmmuV3Driver(rig.Core, rig.Memory, "smmu1", streamIds: new StreamIdMap().Add(0x200, 0x0, 0x100));
        rig.Core.RegisterDriver(other.Ops);
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        Assert.Same(rig.Driver.Unit, d1.Unit);
        Assert.Same(other.Unit, d2.Unit);
        Assert.Equal(0u, other.MasterOf(d2).StreamId); // iommu-map: RID 0x200 -> SID 0
        var domain = rig.AllocS1(d1);
        Assert.Equal(Errno.EINVAL, rig.Core.SetGroupDomain(d2.Group, domain));
    }

    [Fact]
    public void A_20_bit_pasid_device_gets_a_two_level_cd_table_with_64k_leaves_made_on_demand()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 20);
        var rid = rig.AllocS1(dev);
        var high = rig.AllocS1(dev);
        rig.Attach(dev, rid);
        CdTable table = rig.Driver.MasterOf(dev).CdTable!;
        Assert.Equal((CdTableFormat.TwoLevel64K, 20, 1), (table.Format, table.S1CdMax, table.Leaves));
        rig.Map(high, 0x1000, 0x30_0000, K4);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(0xABCDE), high));
        Assert.Equal(2, table.Leaves);
        StreamTableEntry ste = rig.Driver.StreamTable.Read(rig.Sid(dev));
        Assert.Equal((CdTableFormat.TwoLevel64K, 20), (ste.S1Fmt, ste.S1CdMax));
        Assert.Equal(0x30_0000UL, rig.Translate(dev, 0x1000, pasid: 0xABCDE).Address.Value);
        Assert.Equal((uint)SmmuEventType.CBadSubstreamId, rig.Translate(dev, 0x1000, pasid: 0x5_0000).VendorCode); // no leaf: invalid L1CD
    }

    [Fact]
    public void Without_range_invalidation_unmap_sends_one_tlbi_per_page_or_one_tlbi_asid_for_large_ranges()
    {
        var rig = new SmmuRig(new IdRegisters { RangeInvalidation = false });
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x10_0000, 0x10_0000, 4 * K4);
        long perPage = rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa];
        rig.Core.Unmap(domain, new Iova(0x10_0000), 4 * K4);
        Assert.Equal(perPage + 4, rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa]);

        // 1024 pages would need 1024 commands: the driver invalidates the whole ASID instead (512 or more).
        long asid = rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhAsid];
        rig.Driver.InvalidateRange(domain, 0x100_0000, 1024 * K4, K4, leaf: true);
        Assert.Equal(perPage + 4, rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa]);
        Assert.Equal(asid + 1, rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhAsid]);
    }

    [Fact]
    public void With_range_invalidation_an_unmap_is_few_range_commands_covering_exactly_the_range()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x10_0000, 0x10_0000, 37 * K4); // 37 = 0b100101: (NUM 4, SCALE 0) then (NUM 1, SCALE 5)... as 5-bit chunks
        rig.Map(domain, 0x10_0000 + (37 * K4), 0x20_0000, K4);
        for (ulong p = 0; p <= 37; p++)
        {
            Assert.True(rig.Translate(dev, 0x10_0000 + (p * K4)).IsSuccess);
        }

        long before = rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa];
        rig.Core.Unmap(domain, new Iova(0x10_0000), 37 * K4);
        Assert.InRange(rig.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhVa] - before, 1, 3);
        Assert.True(rig.Translate(dev, 0x10_0000 + (37 * K4)).IotlbHit); // the page after the range survives
        Assert.False(rig.Translate(dev, 0x10_0000 + (36 * K4)).IsSuccess);
    }
}
