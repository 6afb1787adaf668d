using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>
/// VT-d device TLBs (ATS, drivers.md §2.4, §2.11): an ATS device behind a unit with ECAP.DT caches translations in its
/// own device TLB, which only device-TLB descriptors drop; the driver follows every IOTLB invalidation with them.
/// </summary>
public class VtdDeviceTlbTests
{
    private static readonly VtdCapabilities WithDeviceTlb = new() { DeviceTlb = true };

    private static IommuDevice AddAtsDevice(VtdRig rig, byte bus, bool ats = true) =>
        rig.Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), $"ats{bus}", pasidBits: 8, ats: ats));

    private static TranslationResult Dma(IommuDevice device, ulong iova, DmaAccess access = DmaAccess.Read, Pasid? pasid = null) =>
        HardwareOf(device).Translate(new DmaRequest(device.Rid, pasid, new Iova(iova), 8, access));

    private static ushort DomainIdOf(VtdRig rig, VtdPagingDomain domain)
    {
        Assert.True(domain.Tags.TryGetDomainId(rig.Unit, out ushort did));
        return did;
    }

    // The descriptors the driver wrote between two IQT values (256-bit descriptors in scalable mode, 128 in legacy).
    private static List<InvalidationDescriptor> QueueBetween(VtdRig rig, ulong fromTail, ulong toTail)
    {
        ulong queue = rig.Hardware.ReadRegister64(VtdRegisters.QueueAddress) & ~0xFFFUL;
        ulong step = rig.Hardware.WideDescriptors ? 32UL : 16UL;
        var descriptors = new List<InvalidationDescriptor>();
        for (ulong at = fromTail; at != toTail; at = (at + step) % 4096)
        {
            descriptors.Add(new InvalidationDescriptor(rig.ReadU64(queue + at), rig.ReadU64(queue + at + 8)));
        }

        return descriptors;
    }

    [Fact]
    public void An_ats_device_gets_dte_and_its_dma_fills_then_hits_its_device_tlb()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000, 0x9000, K4);

        var context = new ScalableContextEntry(rig.ReadU64(rig.Unit.ContextEntryAddress(dev.Rid).Value), 0);
        Assert.True(context.DeviceTlbEnable);
        Assert.True(VtdIommuDriver.DataOf(dev).AtsEnabled);
        DeviceTlb tlb = rig.Hardware.Ats.Find(dev.Rid)!;

        TranslationResult miss = Dma(dev, 0x4010);
        Assert.True(miss.IsSuccess);
        Assert.False(miss.DeviceTlbHit); // a translation request, answered through the IOTLB walk
        Assert.Equal(new DeviceTlbEntry(null, new Translation(new Iova(0x4000), new PhysAddr(0x9000), 12, DmaAccess.ReadWrite)), Assert.Single(tlb.Snapshot()));

        long walks = rig.Hardware.Walks;
        long iotlbLookups = rig.Hardware.Iotlb.Hits + rig.Hardware.Iotlb.Misses;
        TranslationResult hit = Dma(dev, 0x4ff0, DmaAccess.Write);
        Assert.True(hit.DeviceTlbHit); // a translated request: the IOMMU neither walks nor looks in its IOTLB
        Assert.Equal(0x9ff0UL, hit.Address.Value);
        Assert.Equal(walks, rig.Hardware.Walks);
        Assert.Equal(iotlbLookups, rig.Hardware.Iotlb.Hits + rig.Hardware.Iotlb.Misses);
    }

    [Fact]
    public void An_iotlb_only_invalidation_leaves_a_stale_device_tlb_hit_that_the_checker_reports()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000, 0x9000, K4);
        rig.Hardware.StaleChecker.Enabled = true;
        Assert.True(Dma(dev, 0x4000).IsSuccess);

        // Unmap without iotlb_sync, then only an IOTLB DSI: the IOTLB forgets, the device TLB does not.
        var gather = new IotlbGather();
        domain.Ops.UnmapPages!(domain, new Iova(0x4000), K4, 1, gather);
        rig.Unit.Submit(InvalidationDescriptor.IotlbDomain(DomainIdOf(rig, domain)));
        rig.Unit.Flush();
        Assert.Equal(0, rig.Hardware.Iotlb.Count);

        TranslationResult stale = Dma(dev, 0x4008);
        Assert.True(stale.IsSuccess);
        Assert.True(stale.DeviceTlbHit);
        Assert.Equal(0x9008UL, stale.Address.Value);
        StaleTranslation report = Assert.Single(rig.Hardware.StaleChecker.Reports);
        Assert.True(report.InDeviceTlb);
        Assert.Null(report.Current);
        Assert.Equal(DeviceTlb.NoPasidTag, report.Tag);
        Assert.StartsWith("stale device-TLB hit", report.ToString());
    }

    [Fact]
    public void The_drivers_unmap_flushes_the_device_tlb_so_the_next_dma_faults()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000, 0x9000, 2 * K4);
        rig.Hardware.StaleChecker.Enabled = true;
        Assert.True(Dma(dev, 0x4000).IsSuccess);
        Assert.True(Dma(dev, 0x5000).IsSuccess);
        Assert.True(Dma(dev, 0x4000).DeviceTlbHit);

        Assert.Equal(K4, rig.Core.Unmap(domain, new Iova(0x4000), K4));
        Assert.Equal(1, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.DeviceTlb));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Dma(dev, 0x4000)));
        Assert.True(Dma(dev, 0x5000).DeviceTlbHit); // the page next to it stays cached
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void The_unmap_sequence_is_iotlb_then_device_tlb_then_wait_with_bit_exact_descriptors()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1); // SID 0x0100
        var domain = rig.Attach(dev);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), domain));
        rig.Map(domain, 0x20000, 0x40000, 4 * K4);
        ushort did = DomainIdOf(rig, domain);

        ulong tail = rig.Hardware.ReadRegister64(VtdRegisters.QueueTail);
        Assert.Equal(4 * K4, rig.Core.Unmap(domain, new Iova(0x20000), 4 * K4));
        List<InvalidationDescriptor> written = QueueBetween(rig, tail, rig.Hardware.ReadRegister64(VtdRegisters.QueueTail));

        Assert.Equal(4, written.Count);

        // PSI of 4 pages: AM 2 at 0x20000, DR and DW, DID in 31:16; IH clear because the unmap emptied and freed the
        // leaf table page.
        Assert.Equal(InvalidationDescriptor.IotlbPage(did, 0x20000, 2, leafOnly: false), written[0]);
        Assert.Equal(0xF2UL | ((ulong)did << 16), written[0].Q0);
        Assert.Equal(0x20002UL, written[0].Q1);

        // RID_PASID: the non-PASID form. SID in 47:32; 16 KiB at 0x20000 encoded as bit 12 set, bit 13 clear, S = 1.
        Assert.Equal(0x0000_0100_0000_0003UL, written[1].Q0);
        Assert.Equal(0x0000_0000_0002_1001UL, written[1].Q1);

        // PASID 5: type 8, SID in 31:16, PASID in 51:32, S in bit 11.
        Assert.Equal(0x0000_0005_0100_0008UL, written[2].Q0);
        Assert.Equal(0x0000_0000_0002_1800UL, written[2].Q1);
        Assert.Equal(InvalidationDescriptorType.Wait, written[3].Type);
    }

    [Fact]
    public void A_single_page_unmap_encodes_the_device_tlb_range_without_the_size_bit()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x10000, 0x40000, K4);
        ulong tail = rig.Hardware.ReadRegister64(VtdRegisters.QueueTail);
        rig.Core.Unmap(domain, new Iova(0x10000), K4);
        List<InvalidationDescriptor> written = QueueBetween(rig, tail, rig.Hardware.ReadRegister64(VtdRegisters.QueueTail));
        Assert.Equal(0x0000_0100_0000_0003UL, written[1].Q0);
        Assert.Equal(0x0000_0000_0001_0000UL, written[1].Q1);

        // flush_iotlb_all: the whole device TLB, bits 62:12 set with S (the kernel's MAX_AGAW_PFN_WIDTH).
        tail = rig.Hardware.ReadRegister64(VtdRegisters.QueueTail);
        domain.Ops.FlushIotlbAll!(domain);
        written = QueueBetween(rig, tail, rig.Hardware.ReadRegister64(VtdRegisters.QueueTail));
        Assert.Equal(InvalidationDescriptorType.DeviceTlb, written[1].Type);
        Assert.Equal(0x7FFF_FFFF_FFFF_F001UL, written[1].Q1);
    }

    [Fact]
    public void Device_tlb_descriptors_drop_exactly_their_sid_pasid_and_range()
    {
        var rig = new VtdRig(WithDeviceTlb);
        Rid a = Rid.Create(1, 0, 0);
        Rid b = Rid.Create(2, 0, 0);
        DeviceTlb tlbA = rig.Hardware.Ats.Enable(a);
        DeviceTlb tlbB = rig.Hardware.Ats.Enable(b);

        void Fill(DeviceTlb tlb, Pasid? pasid, ulong iova) =>
            tlb.Fill(new DmaRequest(tlb.Rid, pasid, new Iova(iova), 8, DmaAccess.Read), new Translation(new Iova(iova), new PhysAddr(iova + 0x100000), 12, DmaAccess.ReadWrite));

        bool Has(DeviceTlb tlb, Pasid? pasid, ulong iova) => tlb.Snapshot().Any(e => e.Pasid == pasid && e.Translation.InputBase.Value == iova);

        foreach (ulong iova in new ulong[] { 0x200000, 0x201000, 0x202000 })
        {
            Fill(tlbA, null, iova);
            Fill(tlbA, new Pasid(5), iova);
            Fill(tlbA, new Pasid(6), iova);
            Fill(tlbB, null, iova);
        }

        // PASID-based, one page of PASID 5 on SID a
        rig.Unit.Submit(InvalidationDescriptor.PasidDeviceTlb(a.Bdf, 0, 5, 0x200000, sizeBit: false, allPasids: false));
        rig.Unit.Flush();
        Assert.False(Has(tlbA, new Pasid(5), 0x200000));
        Assert.True(Has(tlbA, null, 0x200000));
        Assert.True(Has(tlbA, new Pasid(6), 0x200000));
        Assert.True(Has(tlbA, new Pasid(5), 0x201000));
        Assert.Equal(8, tlbA.Count);

        // Non-PASID, 8 KiB at 0x200000 (bit 12 clear, S = 1): every PASID's entries of both pages on SID a, nothing on b
        rig.Unit.Submit(InvalidationDescriptor.DeviceTlb(a.Bdf, 0, 0, 0x200000, sizeBit: true));
        rig.Unit.Flush();
        Assert.Equal(3, tlbA.Count);
        Assert.All(tlbA.Snapshot(), e => Assert.Equal(0x202000UL, e.Translation.InputBase.Value));
        Assert.Equal(3, tlbB.Count);

        // IOTLB and PASID-based IOTLB invalidations, even global ones, never reach a device TLB
        rig.Unit.Submit(InvalidationDescriptor.IotlbGlobal());
        rig.Unit.Submit(InvalidationDescriptor.PasidIotlbAll(2, 6));
        rig.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCacheGlobalGranularity, 0, 0));
        rig.Unit.Submit(InvalidationDescriptor.ContextGlobal());
        rig.Unit.Flush();
        Assert.Equal(3, tlbA.Count);
        Assert.Equal(3, tlbB.Count);

        // a device-TLB descriptor for a SID without ATS is accepted and drops nothing
        rig.Unit.Submit(InvalidationDescriptor.DeviceTlb(Rid.Create(3, 0, 0).Bdf, 0, 0, 0x7FFF_FFFF_FFFF_F000, sizeBit: true));
        rig.Unit.Flush();
        Assert.Equal(3, tlbB.Count);
        Assert.Equal(0u, rig.Hardware.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.InvalidationQueueError);
    }

    [Fact]
    public void A_device_tlb_request_refused_by_the_context_entry_faults_with_reason_0d()
    {
        // A device without the ATS capability gets no DTE; a device sending ATS traffic anyway is refused.
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1, ats: false);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000, 0x9000, K4);
        Assert.False(VtdIommuDriver.DataOf(dev).AtsEnabled);
        rig.Hardware.Ats.Enable(dev.Rid);

        Assert.Equal(VtdFaultReason.BlockedByTranslationType, Code(Dma(dev, 0x4000)));
        Assert.Equal(0, rig.Hardware.Ats.Find(dev.Rid)!.Count);
        Assert.Equal(VtdFaultReason.BlockedByTranslationType, VtdFaultRecord.Decode(rig.Hardware.FaultRecorder.Read(0, 0), rig.Hardware.FaultRecorder.Read(0, 1)).Code);
    }

    [Fact]
    public void Legacy_mode_uses_tt_01_for_ats_devices_and_identity_turns_ats_off()
    {
        var rig = new VtdRig(WithDeviceTlb with { ScalableMode = false });
        var dev = AddAtsDevice(rig, 1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x4000, 0x9000, K4);
        PhysAddr at = rig.Unit.ContextEntryAddress(dev.Rid);
        Assert.Equal(ContextTranslationType.UntranslatedAndAts, new ContextEntry(rig.ReadU64(at.Value), rig.ReadU64(at.Value + 8)).TranslationType);

        Assert.True(Dma(dev, 0x4000).IsSuccess);
        Assert.True(Dma(dev, 0x4000).DeviceTlbHit);
        rig.Core.Unmap(domain, new Iova(0x4000), K4);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Dma(dev, 0x4000)));

        Assert.Equal(Errno.None, rig.Core.SetGroupDomain(dev.Group, rig.Driver.Identity));
        Assert.Equal(ContextTranslationType.PassThrough, new ContextEntry(rig.ReadU64(at.Value), rig.ReadU64(at.Value + 8)).TranslationType);
        Assert.False(VtdIommuDriver.DataOf(dev).AtsEnabled);
        Assert.Equal(0, rig.Hardware.Ats.Count);
        Assert.True(Dma(dev, 0x4000).IsSuccess);
    }

    [Fact]
    public void Devices_without_ats_or_units_without_dt_keep_the_plain_path()
    {
        var rig = new VtdRig(); // no ECAP.DT
        var ats = AddAtsDevice(rig, 1);
        var plain = AddAtsDevice(rig, 2, ats: false);
        var domain = rig.Attach(ats);
        rig.Attach(plain, domain);
        rig.Map(domain, 0x4000, 0x9000, K4);
        var context = new ScalableContextEntry(rig.ReadU64(rig.Unit.ContextEntryAddress(ats.Rid).Value), 0);
        Assert.False(context.DeviceTlbEnable);
        Assert.Equal(0, rig.Hardware.Ats.Count);

        Assert.True(Dma(ats, 0x4000).IsSuccess);
        Assert.True(Dma(plain, 0x4000).IotlbHit);
        rig.Core.Unmap(domain, new Iova(0x4000), K4);
        Assert.Equal(0, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.DeviceTlb));
        Assert.Equal(0, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidDeviceTlb));
        Assert.False(Dma(ats, 0x4000).IsSuccess);
    }

    [Fact]
    public void Detaching_a_pasid_flushes_that_pasids_device_tlb_entries()
    {
        var rig = new VtdRig(WithDeviceTlb);
        var dev = AddAtsDevice(rig, 1);
        var rid = rig.Attach(dev);
        var pasidDomain = rig.AllocDomain(dev);
        rig.Map(rid, 0x4000, 0x9000, K4);
        rig.Map(pasidDomain, 0x4000, 0xA000, K4);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), pasidDomain));
        Assert.Equal(0x9000UL, Dma(dev, 0x4000).Address.Value);
        Assert.Equal(0xA000UL, Dma(dev, 0x4000, pasid: new Pasid(5)).Address.Value);
        DeviceTlb tlb = rig.Hardware.Ats.Find(dev.Rid)!;
        Assert.Equal(2, tlb.Count);

        rig.Core.RemovePasid(dev, new Pasid(5));
        Assert.Equal(1, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidDeviceTlb));
        DeviceTlbEntry left = Assert.Single(tlb.Snapshot());
        Assert.Null(left.Pasid);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Dma(dev, 0x4000, pasid: new Pasid(5))));
        Assert.True(Dma(dev, 0x4000).DeviceTlbHit);
    }
}
