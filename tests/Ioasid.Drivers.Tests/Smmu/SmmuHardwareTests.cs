using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>The SMMUv3-specific invariants of drivers.md §5 (23–30) and the S1DSS rules of §3.4.1.</summary>
public class SmmuHardwareTests
{
    private const ulong K4 = 0x1000;

    private static TranslationResult Dma(SmmuRig rig, Rid rid, ulong iova, uint? ssid = null) =>
        rig.Hardware.Translate(new DmaRequest(rid, ssid is { } s ? new Pasid(s) : null, new Iova(iova), 1, DmaAccess.Read));

    private static void WriteSte(SmmuRig rig, uint sid, StreamTableEntry ste)
    {
        rig.Driver.StreamTable.Write(sid, ste);
        rig.Driver.Commands.Add(SmmuCommand.CfgiSte(sid));
        rig.Driver.Commands.Sync();
    }

    [Fact]
    public void Invalid_ste_is_c_bad_ste_with_the_sid_and_an_abort_ste_terminates_silently()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        uint sid = rig.Sid(dev);
        WriteSte(rig, sid, new StreamTableEntry { Valid = false, Config = SteConfig.Bypass });
        var r = rig.Translate(dev, 0x1000);
        Assert.Equal(SmmuEventType.CBadSte, (SmmuEventType)r.VendorCode);
        Assert.Equal((SmmuEventType.CBadSte, sid), (rig.LastEvent().Type, rig.LastEvent().StreamId));

        WriteSte(rig, sid, StreamTable.Abort());
        int events = rig.Hardware.Events.Count;
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000).Fault);
        Assert.Equal(events, rig.Hardware.Events.Count);

        WriteSte(rig, sid, new StreamTableEntry { Valid = true, Config = (SteConfig)0b010 }); // reserved Config
        Assert.Equal((uint)SmmuEventType.CBadSte, rig.Translate(dev, 0x1000).VendorCode);
    }

    [Fact]
    public void Sid_beyond_the_linear_table_and_an_l1_descriptor_with_span_0_are_c_bad_streamid()
    {
        var linear = new SmmuRig(new IdRegisters { TwoLevelStreamTable = false, SidBits = 8 }, new StreamIdMap().Add(0, 0, 0x1_0000));
        Assert.Equal(0, linear.Driver.StreamTable.L2Tables);
        var r = Dma(linear, Rid.Create(1, 0, 0), 0x1000); // SID 0x100 >= 2^8
        Assert.Equal(SmmuEventType.CBadStreamId, (SmmuEventType)r.VendorCode);
        Assert.Equal(0x100u, linear.LastEvent().StreamId);

        var twoLevel = new SmmuRig();
        twoLevel.AddDevice(1);
        Assert.True(twoLevel.Driver.StreamTable.TwoLevel);
        Assert.Equal(1, twoLevel.Driver.StreamTable.L2Tables);
        Assert.Equal(FaultReason.Blocked, Dma(twoLevel, Rid.Create(1, 3, 0), 0x1000).Fault); // same L2 table: initial abort STE
        Assert.Equal(SmmuEventType.CBadStreamId, (SmmuEventType)Dma(twoLevel, Rid.Create(5, 0, 0), 0x1000).VendorCode); // Span 0
    }

    [Fact]
    public void Ssid_without_substreams_and_ssid_beyond_s1cdmax_are_c_bad_substreamid()
    {
        var rig = new SmmuRig();
        var plain = rig.AddDevice(1);                 // no PASID: S1CDMax = 0
        var domain = rig.AllocS1(plain);
        rig.Attach(plain, domain);
        rig.Map(domain, 0x1000, 0x10_0000, K4);
        Assert.Equal(0, rig.Driver.StreamTable.Read(rig.Sid(plain)).S1CdMax);
        Assert.True(rig.Translate(plain, 0x1000).IsSuccess);  // no SSID: CD 0
        Assert.Equal((uint)SmmuEventType.CBadSubstreamId, rig.Translate(plain, 0x1000, pasid: 1).VendorCode);

        var pasidDev = rig.AddDevice(2, pasidBits: 4);
        rig.Attach(pasidDev, domain);
        Assert.Equal(4, rig.Driver.StreamTable.Read(rig.Sid(pasidDev)).S1CdMax);
        Assert.Equal((uint)SmmuEventType.CBadSubstreamId, rig.Translate(pasidDev, 0x1000, pasid: 16).VendorCode);
    }

    [Fact]
    public void S1dss_substream0_uses_cd0_for_ssidless_dma_and_makes_ssid_0_illegal()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x1000, 0x10_0000, K4);
        StreamTableEntry ste = rig.Driver.StreamTable.Read(rig.Sid(dev));
        Assert.Equal((S1Dss.Substream0, 8), (ste.S1Dss, ste.S1CdMax));
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
        Assert.Equal((uint)SmmuEventType.CBadSubstreamId, rig.Translate(dev, 0x1000, pasid: 0).VendorCode);
    }

    [Fact]
    public void Identity_rid_with_pasids_is_s1dss_bypass_and_blocked_rid_with_pasids_is_s1dss_terminate()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var pasidDomain = rig.AllocS1(dev);
        rig.Map(pasidDomain, 0x1000, 0x20_0000, K4);
        rig.Attach(dev, rig.Driver.Identity);
        Assert.Equal(SteConfig.Bypass, rig.Driver.StreamTable.Read(rig.Sid(dev)).Config);

        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(7), pasidDomain));
        StreamTableEntry ste = rig.Driver.StreamTable.Read(rig.Sid(dev));
        Assert.Equal((SteConfig.S1Translate, S1Dss.Bypass), (ste.Config, ste.S1Dss));
        Assert.Equal(0x1555_0000UL, rig.Translate(dev, 0x1555_0000).Address.Value);     // RID: stage 1 bypassed
        Assert.Equal(0x20_0000UL, rig.Translate(dev, 0x1000, pasid: 7).Address.Value);  // PASID translated

        rig.Attach(dev, rig.Driver.Blocked);
        ste = rig.Driver.StreamTable.Read(rig.Sid(dev));
        Assert.Equal((SteConfig.S1Translate, S1Dss.Terminate), (ste.Config, ste.S1Dss));
        var r = rig.Translate(dev, 0x1000);
        Assert.Equal((FaultReason.Blocked, (uint)SmmuEventType.FStreamDisabled), (r.Fault, r.VendorCode));
        Assert.Equal(SmmuEventType.FStreamDisabled, rig.LastEvent().Type);
        Assert.Equal(0x20_0000UL, rig.Translate(dev, 0x1000, pasid: 7).Address.Value);

        // The last PASID goes: the blocked RID drops back to a plain abort STE.
        rig.Core.RemovePasid(dev, new Pasid(7));
        Assert.Equal(SteConfig.Abort, rig.Driver.StreamTable.Read(rig.Sid(dev)).Config);
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000, pasid: 7).Fault); // abort STE: PASIDs die too
    }

    [Fact]
    public void A_cd_rewritten_without_cfgi_keeps_its_old_config_until_cfgi_cd_and_sync()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        var a = rig.AllocS1(dev);
        var b = rig.AllocS1(dev);
        rig.Attach(dev, a);
        rig.Map(a, 0x1000, 0x10_0000, K4);
        rig.Map(b, 0x1000, 0x20_0000, K4);
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);

        SmmuMaster master = rig.Driver.MasterOf(dev);
        master.CdTable!.Write(0, b.MakeCd()); // behind the SMMU's back
        Assert.Equal(0x10_0000UL, rig.Translate(dev, 0x1000).Address.Value);
        rig.Driver.Commands.Add(SmmuCommand.CfgiCd(master.StreamId, 0));
        rig.Driver.Commands.Sync();
        Assert.Equal(0x20_0000UL, rig.Translate(dev, 0x1000).Address.Value);

        // Same for an STE: an abort STE written without CFGI_STE is not seen.
        rig.Driver.StreamTable.Write(master.StreamId, StreamTable.Abort());
        Assert.True(rig.Translate(dev, 0x1000).IsSuccess);
        rig.Driver.Commands.Add(SmmuCommand.CfgiSte(master.StreamId));
        rig.Driver.Commands.Sync();
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000).Fault);
    }

    [Fact]
    public void Tlbi_nh_va_range_drops_exactly_its_pages_of_one_asid_and_nh_asid_and_s12_vmall_drop_a_tag()
    {
        var rig = new SmmuRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var d3 = rig.AddDevice(3);
        var a = rig.AllocS1(d1);
        var b = rig.AllocS1(d2);
        var s2 = rig.AllocS2(d3);
        rig.Attach(d1, a);
        rig.Attach(d2, b);
        rig.Attach(d3, s2);
        foreach (var (dev, dom) in new[] { (d1, (IommuDomain)a), (d2, b), (d3, s2) })
        {
            rig.Map(dom, 0x10_0000, 0x10_0000, 16 * K4);
            for (ulong p = 0; p < 16; p++)
            {
                Assert.True(rig.Translate(dev, 0x10_0000 + (p * K4)).IsSuccess);
            }
        }

        // Pages 4..11: (NUM 3 + 1) << SCALE 1 = 8 pages of 4 KiB from page 4.
        rig.Driver.Commands.Add(SmmuCommand.TlbiNhVa(0, a.Asid, 0x10_4000, leaf: true, tg: 1, num: 3, scale: 1));
        rig.Driver.Commands.Sync();
        for (ulong p = 0; p < 16; p++)
        {
            Assert.Equal(p is < 4 or >= 12, rig.Translate(d1, 0x10_0000 + (p * K4)).IotlbHit);
            Assert.True(rig.Translate(d2, 0x10_0000 + (p * K4)).IotlbHit);
        }

        rig.Driver.Commands.Add(SmmuCommand.TlbiNhAsid(0, a.Asid));
        rig.Driver.Commands.Add(SmmuCommand.TlbiS12Vmall(s2.Vmid));
        rig.Driver.Commands.Sync();
        Assert.False(rig.Translate(d1, 0x10_0000).IotlbHit);
        Assert.False(rig.Translate(d3, 0x10_0000).IotlbHit);
        Assert.True(rig.Translate(d2, 0x10_0000).IotlbHit);
    }

    [Fact]
    public void Access_flag_zero_is_f_access_unless_affd_and_cd_r_0_suppresses_the_record_not_the_fault()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x1000, 0x10_0000, K4, IommuProt.Read); // read-only: AF fault must come before the permission fault
        Span<ulong> walk = stackalloc ulong[4];
        int n = domain.Table.ReadWalk(new Iova(0x1000), walk);
        ulong leafTable = walk[n - 2] & VmsaDescriptor.AddressMask;
        rig.Memory.WriteU64(new PhysAddr(leafTable + 8), walk[n - 1] & ~VmsaDescriptor.AccessFlag);

        var r = rig.Translate(dev, 0x1000, DmaAccess.Write);
        Assert.Equal((uint)SmmuEventType.FAccess, r.VendorCode);
        Assert.Equal(SmmuEventType.FAccess, rig.LastEvent().Type);

        SmmuMaster master = rig.Driver.MasterOf(dev);
        ContextDescriptor cd = domain.MakeCd();
        cd.Record = false;
        master.CdTable!.Write(0, cd);
        rig.Driver.Commands.Add(SmmuCommand.CfgiCd(master.StreamId, 0));
        rig.Driver.Commands.Sync();
        int events = rig.Hardware.Events.Count;
        Assert.Equal((uint)SmmuEventType.FAccess, rig.Translate(dev, 0x1000).VendorCode);
        Assert.Equal(events, rig.Hardware.Events.Count);

        cd.Affd = true;
        master.CdTable.Write(0, cd);
        rig.Driver.Commands.Add(SmmuCommand.CfgiCd(master.StreamId, 0));
        rig.Driver.Commands.Sync();
        Assert.True(rig.Translate(dev, 0x1000).IsSuccess);
        Assert.Equal((uint)SmmuEventType.FPermission, rig.Translate(dev, 0x1000, DmaAccess.Write).VendorCode);
    }

    [Fact]
    public void An_unknown_opcode_stops_the_queue_with_cerror_ill_until_gerrorn_acknowledges()
    {
        var rig = new SmmuRig();
        long executed = rig.Hardware.CommandsExecuted;
        rig.Driver.Commands.Add(SmmuCommand.TlbiNsnhAll());
        rig.Driver.Commands.Add(new SmmuCommand(0x7F, 0)); // no such opcode
        Assert.Throws<InvalidOperationException>(() => rig.Driver.Commands.Sync());
        uint cons = rig.Hardware.ReadRegister32(SmmuRegisters.CmdqCons);
        Assert.Equal(SmmuRegisters.CerrorIll, (cons >> SmmuRegisters.CmdqConsErrShift) & 0x7F);
        uint gerror = rig.Hardware.ReadRegister32(SmmuRegisters.Gerror);
        Assert.NotEqual(0u, (gerror ^ rig.Hardware.ReadRegister32(SmmuRegisters.Gerrorn)) & SmmuRegisters.GerrorCmdqErr);
        PhysAddr bad = rig.Hardware.CommandQueue.EntryAddress(cons);
        Assert.Equal(0x7FUL, rig.Memory.ReadU64(bad));                      // CONS points at the bad command
        Assert.Equal(executed + 2, rig.Hardware.CommandsExecuted);          // the TLBI ran, nothing after

        // Software replaces the command and acknowledges: the SMMU resumes with the rest (the CMD_SYNC).
        rig.Memory.WriteU64(bad, (ulong)SmmuOpcode.PrefetchConfig);
        long syncs = rig.Hardware.Syncs;
        rig.Hardware.WriteRegister32(SmmuRegisters.Gerrorn, gerror);
        Assert.Equal(syncs + 1, rig.Hardware.Syncs);
    }

    [Fact]
    public void A_full_event_queue_drops_events_with_the_overflow_flag_and_dma_results_do_not_change()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        rig.Attach(dev, rig.AllocS1(dev));
        int capacity = rig.Driver.Events.Capacity;
        for (int i = 0; i < capacity + 5; i++)
        {
            Assert.Equal(FaultReason.Translation, rig.Translate(dev, 0x1000 * (ulong)(i + 1)).Fault);
        }

        Assert.NotEqual(0u, (rig.Hardware.ReadRegister32(SmmuRegisters.EvtqProd) ^ rig.Hardware.ReadRegister32(SmmuRegisters.EvtqCons)) & SmmuRegisters.QueueOverflowFlag);
        Assert.Equal(5, rig.Hardware.EventsLost);
        var events = rig.Driver.Events.Drain();
        Assert.Equal(capacity, events.Count);
        Assert.Equal(1, rig.Driver.Events.OverflowsSeen);
        Assert.All(events, e => Assert.Equal((SmmuEventType.FTranslation, dev.Rid, rig.Sid(dev)), (e.Type, e.Rid, e.StreamId)));
        Assert.Equal(0x2000UL, events[1].Iova.Value);

        // With the queue disabled events are lost, still without affecting the transaction.
        rig.Hardware.WriteRegister32(SmmuRegisters.Cr0, SmmuRegisters.Cr0SmmuEn | SmmuRegisters.Cr0CmdqEn);
        Assert.Equal(FaultReason.Translation, rig.Translate(dev, 0x1000).Fault);
        Assert.Empty(rig.Driver.Events.Drain());
    }

    [Fact]
    public void Gbpa_decides_while_the_smmu_is_disabled()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        rig.Hardware.WriteRegister32(SmmuRegisters.Cr0, 0);
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000).Fault);
        rig.Hardware.WriteRegister32(SmmuRegisters.Gbpa, 0); // no UPDATE bit: ignored
        Assert.Equal(FaultReason.Blocked, rig.Translate(dev, 0x1000).Fault);
        rig.Hardware.WriteRegister32(SmmuRegisters.Gbpa, SmmuRegisters.GbpaUpdate);
        Assert.Equal(0x1000UL, rig.Translate(dev, 0x1000).Address.Value);
    }

    [Fact]
    public void Fetches_and_walks_outside_memory_are_f_ste_fetch_f_cd_fetch_and_f_walk_eabt()
    {
        var rig = new SmmuRig(new IdRegisters { TwoLevelStreamTable = false, SidBits = 12 });
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        uint sid = rig.Sid(dev);
        SmmuMaster master = rig.Driver.MasterOf(dev);

        // A CD whose TTB0 lies beyond the 1 GiB of memory (but within IPS): the walk's first read aborts.
        ContextDescriptor cd = domain.MakeCd();
        cd.Ttb0 = new PhysAddr(2UL << 30);
        master.CdTable!.Write(0, cd);
        rig.Driver.Commands.Add(SmmuCommand.CfgiCd(sid, 0));
        rig.Driver.Commands.Sync();
        Assert.Equal((uint)SmmuEventType.FWalkEabt, rig.Translate(dev, 0x1000).VendorCode);

        // An STE whose CD table lies beyond memory.
        StreamTableEntry ste = rig.Driver.StreamTable.Read(sid);
        ste.S1ContextPtr = new PhysAddr(3UL << 30);
        WriteSte(rig, sid, ste);
        Assert.Equal((uint)SmmuEventType.FCdFetch, rig.Translate(dev, 0x1000).VendorCode);
        Assert.Equal(FaultReason.ExternalAbort, rig.LastEvent().Reason);

        // A stream table beyond memory.
        rig.Hardware.WriteRegister64(SmmuRegisters.StrtabBase, 1UL << 30);
        rig.Driver.Commands.Add(SmmuCommand.CfgiAll());
        rig.Driver.Commands.Sync();
        Assert.Equal((uint)SmmuEventType.FSteFetch, rig.Translate(dev, 0x1000).VendorCode);
    }
}
