using System.Buffers.Binary;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>
/// SMMUv3 ATCs (ATS, drivers.md §3.4–3.7): an ATS master on an SMMU with IDR0.ATS gets EATS = full, caches
/// translations in its ATC, which only ATC_INV drops; the driver sends ATC_INV after every TLBI of the master's domains.
/// </summary>
public class SmmuAtcTests
{
    private static readonly IdRegisters WithAts = new() { Ats = true };

    private static IommuDevice AddAtsDevice(SmmuRig rig, byte bus, bool ats = true, int pasidBits = 8) =>
        rig.Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), $"ats{bus}", pasidBits: pasidBits, ats: ats));

    private static TranslationResult Dma(SmmuRig rig, IommuDevice device, ulong iova, DmaAccess access = DmaAccess.Read, uint? pasid = null) =>
        rig.Hardware.Translate(new DmaRequest(device.Rid, pasid is { } p ? new Pasid(p) : null, new Iova(iova), 8, access));

    // The commands the driver wrote between two CMDQ_PROD values.
    private static List<SmmuCommand> QueueBetween(SmmuRig rig, uint fromProd, uint toProd)
    {
        SmmuQueue queue = rig.Hardware.CommandQueue;
        var commands = new List<SmmuCommand>();
        for (uint p = fromProd & queue.PointerMask; p != (toProd & queue.PointerMask); p = queue.Next(p))
        {
            PhysAddr at = queue.EntryAddress(p);
            commands.Add(new SmmuCommand(rig.Memory.ReadU64(at), rig.Memory.ReadU64(new PhysAddr(at.Value + 8))));
        }

        return commands;
    }

    [Fact]
    public void An_ats_master_gets_eats_full_and_its_dma_fills_then_hits_its_atc()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x1000);

        Assert.Equal(StreamTableEntry.EatsFull, rig.Hardware.LookupStream(rig.Sid(dev)).Entry.Eats);
        Assert.True(rig.Driver.MasterOf(dev).AtsEnabled);
        DeviceTlb atc = rig.Hardware.Ats.Find(dev.Rid)!;

        Assert.False(Dma(rig, dev, 0x4000).DeviceTlbHit);
        Assert.Equal(new DeviceTlbEntry(null, new Translation(new Iova(0x4000), new PhysAddr(0x9000), 12, DmaAccess.ReadWrite)), Assert.Single(atc.Snapshot()));
        long walks = rig.Hardware.Walks;
        TranslationResult hit = Dma(rig, dev, 0x4ff0, DmaAccess.Write);
        Assert.True(hit.DeviceTlbHit);
        Assert.Equal(0x9ff0UL, hit.Address.Value);
        Assert.Equal(walks, rig.Hardware.Walks);
    }

    [Fact]
    public void A_tlbi_only_invalidation_leaves_a_stale_atc_hit_that_the_checker_reports()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x1000);
        rig.Hardware.StaleChecker.Enabled = true;
        Assert.True(Dma(rig, dev, 0x4000).IsSuccess);

        var gather = new IotlbGather();
        domain.Ops.UnmapPages!(domain, new Iova(0x4000), 0x1000, 1, gather);
        rig.Driver.Commands.Add(SmmuCommand.TlbiNsnhAll()); // even the widest TLBI leaves the ATC alone
        rig.Driver.Commands.Sync();
        Assert.Equal(0, rig.Hardware.Iotlb.Count);

        TranslationResult stale = Dma(rig, dev, 0x4008);
        Assert.True(stale.DeviceTlbHit);
        Assert.Equal(0x9008UL, stale.Address.Value);
        StaleTranslation report = Assert.Single(rig.Hardware.StaleChecker.Reports);
        Assert.True(report.InDeviceTlb);
        Assert.Null(report.Current);
    }

    [Fact]
    public void The_drivers_unmap_sends_atc_inv_after_the_tlbi_so_the_next_dma_faults()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x2000);
        rig.Hardware.StaleChecker.Enabled = true;
        Assert.True(Dma(rig, dev, 0x4000).IsSuccess);
        Assert.True(Dma(rig, dev, 0x5000).IsSuccess);

        long atcInvs = rig.Hardware.AtcInvalidations;
        Assert.Equal(0x1000UL, rig.Core.Unmap(domain, new Iova(0x4000), 0x1000));
        Assert.Equal(atcInvs + 1, rig.Hardware.AtcInvalidations);
        TranslationResult after = Dma(rig, dev, 0x4000);
        Assert.Equal(SmmuEventType.FTranslation, (SmmuEventType)after.VendorCode);
        Assert.True(Dma(rig, dev, 0x5000).DeviceTlbHit);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void The_unmap_sequence_is_tlbi_sync_then_atc_inv_per_ssid_then_sync_bit_exact()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1); // StreamID 0x100
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), domain));
        rig.Map(domain, 0x20000, 0x40000, 0x4000);

        uint prod = rig.Hardware.CommandQueue.Prod;
        rig.Core.Unmap(domain, new Iova(0x20000), 0x4000);
        List<SmmuCommand> written = QueueBetween(rig, prod, rig.Hardware.CommandQueue.Prod);

        Assert.Equal(
            [SmmuOpcode.TlbiNhVa, SmmuOpcode.CmdSync, SmmuOpcode.AtcInv, SmmuOpcode.AtcInv, SmmuOpcode.CmdSync],
            written.Select(c => c.Opcode));

        // RID (SSID 0 = no PASID): SSV = 0, SID in 63:32; 4 pages at 0x20000: Size = log2(4) = 2, address aligned to 16 KiB.
        Assert.Equal(0x0000_0100_0000_0040UL, written[2].Qw0);
        Assert.Equal(0x0000_0000_0002_0002UL, written[2].Qw1);

        // PASID 5: SSV (bit 11) and SSID 5 in 31:12.
        Assert.Equal(0x0000_0100_0000_5840UL, written[3].Qw0);
        Assert.Equal(0x0000_0000_0002_0002UL, written[3].Qw1);
    }

    [Theory]
    [InlineData(0x20000UL, 0x4000UL, 0x20000UL, 2)] // exactly an aligned block
    [InlineData(0x21000UL, 0x2000UL, 0x20000UL, 2)] // pages 0x21, 0x22 straddle an 8 KiB boundary: the 16 KiB block
    [InlineData(0x5000UL, 0x1000UL, 0x5000UL, 0)] // one page
    [InlineData(0UL, 0UL, 0UL, 52)] // size 0: everything
    public void Atc_inv_covers_the_range_with_the_smallest_aligned_span(ulong start, ulong size, ulong address, int log2Pages)
    {
        SmmuCommand command = SmmuV3Driver.AtcInvFor(0x42, 0, start, size);
        Assert.Equal(SmmuOpcode.AtcInv, command.Opcode);
        Assert.Equal(0x42u, command.Sid);
        Assert.False(command.Ssv);
        Assert.Equal(address, command.Address);
        Assert.Equal(log2Pages, command.AtcSize);
    }

    [Fact]
    public void Atc_inv_drops_exactly_its_sid_ssid_and_span_and_ssv_0_hits_pasid_entries()
    {
        var rig = new SmmuRig(WithAts);
        Rid a = Rid.Create(1, 0, 0);
        Rid b = Rid.Create(2, 0, 0);
        DeviceTlb atcA = rig.Hardware.Ats.Enable(a);
        DeviceTlb atcB = rig.Hardware.Ats.Enable(b);

        void Fill(DeviceTlb tlb, Pasid? pasid, ulong iova) =>
            tlb.Fill(new DmaRequest(tlb.Rid, pasid, new Iova(iova), 8, DmaAccess.Read), new Translation(new Iova(iova), new PhysAddr(iova + 0x100000), 12, DmaAccess.ReadWrite));

        bool Has(DeviceTlb tlb, Pasid? pasid, ulong iova) => tlb.Snapshot().Any(e => e.Pasid == pasid && e.Translation.InputBase.Value == iova);

        foreach (ulong iova in new ulong[] { 0x200000, 0x201000, 0x202000 })
        {
            Fill(atcA, null, iova);
            Fill(atcA, new Pasid(5), iova);
            Fill(atcA, new Pasid(6), iova);
            Fill(atcB, null, iova);
        }

        // SSV = 1, SSID 5, one page
        rig.Driver.Commands.Add(SmmuCommand.AtcInv(a.Value, 5, 0x200000, 0));
        rig.Driver.Commands.Sync();
        Assert.False(Has(atcA, new Pasid(5), 0x200000));
        Assert.True(Has(atcA, null, 0x200000));
        Assert.True(Has(atcA, new Pasid(6), 0x200000));
        Assert.True(Has(atcA, new Pasid(5), 0x201000));
        Assert.Equal(8, atcA.Count);

        // SSV = 0, 2 pages at 0x200000: every SSID's entries there ("ATS and SSID 0"); the third page and SID b stay
        rig.Driver.Commands.Add(SmmuCommand.AtcInv(a.Value, null, 0x200000, 1));
        rig.Driver.Commands.Sync();
        Assert.Equal(3, atcA.Count);
        Assert.All(atcA.Snapshot(), e => Assert.Equal(0x202000UL, e.Translation.InputBase.Value));
        Assert.Equal(3, atcB.Count);

        // TLBIs and configuration invalidations never reach an ATC
        rig.Driver.Commands.Add(SmmuCommand.TlbiNsnhAll());
        rig.Driver.Commands.Add(SmmuCommand.TlbiS12Vmall(1));
        rig.Driver.Commands.Add(SmmuCommand.CfgiAll());
        rig.Driver.Commands.Sync();
        Assert.Equal(3, atcA.Count);

        // Size 52: everything of SID b
        rig.Driver.Commands.Add(SmmuCommand.AtcInv(b.Value, null, 0, SmmuV3Driver.AtcInvSizeAll));
        rig.Driver.Commands.Sync();
        Assert.Equal(0, atcB.Count);
        Assert.Equal(3, atcA.Count);
    }

    [Fact]
    public void Ats_refused_by_the_ste_raises_f_bad_ats_treq_and_f_transl_forbidden()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x2000);
        Assert.True(Dma(rig, dev, 0x4000).IsSuccess); // cached in the ATC

        // Software clears EATS without flushing the ATC.
        uint sid = rig.Sid(dev);
        StreamTableEntry ste = rig.Driver.StreamTable.Read(sid);
        ste.Eats = 0;
        rig.Driver.StreamTable.Write(sid, ste);
        rig.Driver.Commands.Add(SmmuCommand.CfgiSte(sid));
        rig.Driver.Commands.Sync();

        TranslationResult translated = Dma(rig, dev, 0x4000); // an ATC hit: a translated transaction
        Assert.Equal(SmmuEventType.FTranslForbidden, (SmmuEventType)translated.VendorCode);
        Assert.Equal(FaultReason.Blocked, translated.Fault);
        Assert.Equal(SmmuEventType.FTranslForbidden, rig.LastEvent().Type);

        TranslationResult request = Dma(rig, dev, 0x5000); // an ATC miss: a translation request
        Assert.Equal(SmmuEventType.FBadAtsTreq, (SmmuEventType)request.VendorCode);
        Assert.Equal(SmmuEventType.FBadAtsTreq, rig.LastEvent().Type);
        Assert.Equal(sid, rig.LastEvent().StreamId);
    }

    [Fact]
    public void Masters_without_ats_or_an_smmu_without_idr0_ats_keep_the_plain_path()
    {
        var rig = new SmmuRig(); // IDR0.ATS = 0
        var ats = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(ats);
        rig.Attach(ats, domain);
        var withAts = new SmmuRig(WithAts);
        var plain = AddAtsDevice(withAts, 2, ats: false);
        var plainDomain = withAts.AllocS1(plain);
        withAts.Attach(plain, plainDomain);

        foreach ((SmmuRig r, IommuDevice dev, SmmuPagingDomain d) in new[] { (rig, ats, domain), (withAts, plain, plainDomain) })
        {
            r.Map(d, 0x4000, 0x9000, 0x1000);
            Assert.Equal(0UL, r.Hardware.LookupStream(r.Sid(dev)).Entry.Eats);
            Assert.False(r.Driver.MasterOf(dev).AtsEnabled);
            Assert.Equal(0, r.Hardware.Ats.Count);
            Assert.True(Dma(r, dev, 0x4000).IsSuccess);
            Assert.True(Dma(r, dev, 0x4000).IotlbHit);
            r.Core.Unmap(d, new Iova(0x4000), 0x1000);
            Assert.Equal(0, r.Hardware.AtcInvalidations);
            Assert.False(Dma(r, dev, 0x4000).IsSuccess);
        }
    }

    [Fact]
    public void Detaching_an_ats_master_flushes_its_atc_and_turns_ats_off()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x1000);
        Assert.True(Dma(rig, dev, 0x4000).IsSuccess);
        DeviceTlb atc = rig.Hardware.Ats.Find(dev.Rid)!;
        Assert.Equal(1, atc.Count);

        long atcInvs = rig.Hardware.AtcInvalidations;
        rig.Attach(dev, rig.Driver.Blocked);
        Assert.Equal(atcInvs + 1, rig.Hardware.AtcInvalidations);
        Assert.Equal(0, atc.Count);
        Assert.False(rig.Driver.MasterOf(dev).AtsEnabled);
        Assert.Null(rig.Hardware.Ats.Find(dev.Rid));
        Assert.Equal(FaultReason.Blocked, Dma(rig, dev, 0x4000).Fault);
    }

    [Fact]
    public void A_stage2_domain_of_an_ats_master_is_flushed_from_the_atc_too()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1, pasidBits: 0);
        var domain = rig.AllocS2(dev, nestParent: false);
        rig.Attach(dev, domain);
        rig.Map(domain, 0x4000, 0x9000, 0x1000);
        Assert.Equal(StreamTableEntry.EatsFull, rig.Hardware.LookupStream(rig.Sid(dev)).Entry.Eats);
        Assert.True(Dma(rig, dev, 0x4000).IsSuccess);
        Assert.True(Dma(rig, dev, 0x4000).DeviceTlbHit);
        rig.Core.Unmap(domain, new Iova(0x4000), 0x1000);
        Assert.False(Dma(rig, dev, 0x4000).IsSuccess);
    }

    [Fact]
    public void A_nested_ste_keeps_the_users_eats_and_the_users_atc_inv_reaches_the_atc()
    {
        var rig = new SmmuRig(WithAts);
        var dev = AddAtsDevice(rig, 1, pasidBits: 0);
        var parent = rig.AllocS2(dev);
        rig.Map(parent, 0, 0, 0x1000_0000); // identity stage 2 for the guest's RAM
        var guestTable = new ArmLpaePageTable(rig.Memory, TranslationGranule.Size4K, 48, 48, stage2: false);
        PhysAddr cdTable = rig.Memory.Frames.AllocateZeroed();
        var cd = new ContextDescriptor
        {
            T0Sz = 16, Ir0 = 1, Or0 = 1, Sh0 = 3, Epd1 = true, Valid = true, Ips = 5, Aa64 = true, Record = true, Abort = true,
            Aset = true, Asid = 7, Ttb0 = guestTable.Root, Mair = SmmuV3Driver.Mair,
        };
        rig.Memory.WriteU64(cdTable, cd.Qw0);
        rig.Memory.WriteU64(new PhysAddr(cdTable.Value + 8), cd.Qw1);
        rig.Memory.WriteU64(new PhysAddr(cdTable.Value + 24), cd.Qw3);
        var vste = new StreamTableEntry { Valid = true, Config = SteConfig.S1Translate, S1ContextPtr = cdTable, Eats = StreamTableEntry.EatsFull };
        var data = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(data, vste.Qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), vste.Qw1);
        var nested = (SmmuNestedDomain)rig.Core.AllocNestedDomain(dev, parent, false, true, 0, SmmuNestedDomain.DataType, data);
        rig.Attach(dev, nested);
        Assert.Equal(StreamTableEntry.EatsFull, rig.Hardware.LookupStream(rig.Sid(dev)).Entry.Eats);
        Assert.True(rig.Driver.MasterOf(dev).AtsEnabled);

        guestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), 0x1000, 1, SmmuRig.Rw, out _);
        Assert.True(Dma(rig, dev, 0x4000_0000).IsSuccess);
        Assert.True(Dma(rig, dev, 0x4000_0000).DeviceTlbHit);

        // The guest unmaps, invalidates its TLB and its ATC (with the vSID; here the vSID is the physical one).
        guestTable.UnmapPages(new Iova(0x4000_0000), 0x1000, 1, new IotlbGather(), parent);
        var commands = new byte[32];
        SmmuCommand tlbi = SmmuCommand.TlbiNhAsid(0, 7);
        SmmuCommand atcInv = SmmuV3Driver.AtcInvFor(rig.Sid(dev), 0, 0x4000_0000, 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(commands, tlbi.Qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(commands.AsSpan(8), tlbi.Qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(commands.AsSpan(16), atcInv.Qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(commands.AsSpan(24), atcInv.Qw1);
        Assert.Equal(Errno.None, nested.Ops.CacheInvalidateUser!(nested, SmmuNestedDomain.InvalidateDataType, commands, 16, out uint handled));
        Assert.Equal(2u, handled);
        Assert.Equal(0, rig.Hardware.Ats.Find(dev.Rid)!.Count);
        Assert.Equal(FaultReason.Translation, Dma(rig, dev, 0x4000_0000).Fault);

        // A change of the nest parent flushes the nested master's whole ATC.
        guestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), 0x1000, 1, SmmuRig.Rw, out _);
        Assert.True(Dma(rig, dev, 0x4000_0000).IsSuccess);
        Assert.Equal(0x20_0000UL, rig.Core.Unmap(parent, new Iova(0x20_0000), 0x20_0000)); // the 2 MiB block holding the page
        Assert.Equal(0, rig.Hardware.Ats.Find(dev.Rid)!.Count);
        Assert.False(Dma(rig, dev, 0x4000_0000).IsSuccess);
    }
}
