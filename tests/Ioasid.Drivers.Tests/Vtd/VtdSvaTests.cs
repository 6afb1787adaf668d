using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>VT-d SVA: PASID entries over the process's CPU page table, MMU-notifier invalidation, release and unbind.</summary>
public class VtdSvaTests
{
    private const ulong Page = 4096;

    [Fact]
    public void Dma_on_the_sva_pasid_reads_and_writes_exactly_the_process_memory()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var process = rig.Machine.CreateProcess();
        ulong va = process.Mm.Map(16 * Page);
        var pattern = new byte[16 * Page];
        new Random(7).NextBytes(pattern);
        process.Mm.Write(va, pattern);

        var bond = rig.Core.BindSva(dev, process.Mm);
        var fromDevice = new byte[pattern.Length - 100];
        Assert.True(rig.Dma(dev, bond.Pasid, va + 50, fromDevice, DmaAccess.Read).IsSuccess);
        var fromCpu = new byte[fromDevice.Length];
        process.Mm.Read(va + 50, fromCpu);
        Assert.Equal(fromCpu, fromDevice);

        var written = new byte[3 * Page];
        new Random(8).NextBytes(written);
        Assert.True(rig.Dma(dev, bond.Pasid, va + Page + 9, written, DmaAccess.Write).IsSuccess);
        var seen = new byte[written.Length];
        process.Mm.Read(va + Page + 9, seen);
        Assert.Equal(written, seen);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void The_pasid_entry_is_first_stage_over_the_cpu_page_table_as_linux_writes_it()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;

        var bond = rig.Core.BindSva(dev, mm);

        var domain = Assert.IsType<VtdSvaDomain>(bond.Domain);
        var entry = VtdIommuDriver.DataOf(dev).ReadPasidEntry(bond.Pasid.Value);
        Assert.True(entry.Present);
        Assert.Equal(PasidGranularTranslationType.FirstStage, entry.Pgtt);
        Assert.Equal(mm.CpuPageTable!.Root, entry.FirstStageRoot);
        Assert.Equal(domain.Root, entry.FirstStageRoot);
        Assert.Equal(DomainIdAllocator.PassThroughDomainId, entry.DomainId); // FLPT_DEFAULT_DID for every SVA domain
        Assert.False(entry.SupervisorRequests);
        Assert.False(entry.WriteProtect);
        Assert.False(entry.FirstStageFiveLevel);
        Assert.NotEqual(0UL, entry.Q1 & PasidEntry.PageWalkSnoopBit); // ECAP.SMPWC
        Assert.Equal(1, rig.Unit.DomainIds.InUse - 1); // no DID was allocated for it
    }

    [Fact]
    public void A_page_the_process_touches_after_bind_becomes_reachable_by_dma()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(8 * Page);
        var bond = rig.Core.BindSva(dev, mm);
        var buffer = new byte[8];

        var before = rig.Dma(dev, bond.Pasid, va + (3 * Page), buffer, DmaAccess.Read);
        Assert.Equal(VtdFaultReason.FirstStageNotPresent, (VtdFaultReason)before.VendorCode);

        mm.Write(va + (3 * Page), [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.True(rig.Dma(dev, bond.Pasid, va + (3 * Page), buffer, DmaAccess.Read).IsSuccess);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], buffer);
    }

    [Fact]
    public void Munmap_invalidates_the_iotlb_so_the_next_dma_faults_not_present_and_nothing_is_stale()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(8 * Page);
        mm.Write(va, new byte[8 * Page]);
        var bond = rig.Core.BindSva(dev, mm);
        var domain = (VtdSvaDomain)bond.Domain;
        var buffer = new byte[8 * Page];
        Assert.True(rig.Dma(dev, bond.Pasid, va, buffer, DmaAccess.Read).IsSuccess); // fills the IOTLB
        long piotlb = rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb);

        mm.Unmap(va + (2 * Page), 2 * Page);

        Assert.Equal(1, domain.NotifierInvalidations);
        Assert.Equal(piotlb + 1, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb));
        var result = rig.Dma(dev, bond.Pasid, va + (2 * Page), new byte[16], DmaAccess.Read);
        Assert.Equal(VtdFaultReason.FirstStageNotPresent, (VtdFaultReason)result.VendorCode);
        Assert.True(rig.Dma(dev, bond.Pasid, va + Page, new byte[16], DmaAccess.Read).IsSuccess);
        Assert.True(rig.Dma(dev, bond.Pasid, va + (4 * Page), new byte[16], DmaAccess.Read).IsSuccess);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
        Assert.True(rig.Hardware.StaleChecker.Checks > 0);
    }

    [Fact]
    public void Mprotect_read_only_makes_device_writes_fault_while_reads_still_work()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(4 * Page);
        mm.Write(va, new byte[4 * Page]);
        var bond = rig.Core.BindSva(dev, mm);
        Assert.True(rig.Dma(dev, bond.Pasid, va, new byte[4 * Page], DmaAccess.Write).IsSuccess);

        mm.Protect(va, 4 * Page, UserProt.Read);

        var write = rig.Dma(dev, bond.Pasid, va + Page, new byte[4], DmaAccess.Write);
        Assert.Equal(VtdFaultReason.FirstStageWriteNotPermitted, (VtdFaultReason)write.VendorCode);
        Assert.True(rig.Dma(dev, bond.Pasid, va + Page, new byte[4], DmaAccess.Read).IsSuccess);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Two_devices_share_one_domain_and_one_pasid_and_both_are_invalidated()
    {
        var rig = new SvaRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var d3 = rig.AddDevice(0x81); // behind the second unit
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(4 * Page);
        mm.Write(va, [42]);

        var b1 = rig.Core.BindSva(d1, mm);
        var b2 = rig.Core.BindSva(d2, mm);
        var b3 = rig.Core.BindSva(d3, mm);

        Assert.Same(b1.Domain, b2.Domain);
        Assert.Same(b1.Domain, b3.Domain);
        Assert.Equal(b1.Pasid, b2.Pasid);
        Assert.Equal(b1.Pasid, b3.Pasid);
        var domain = (VtdSvaDomain)b1.Domain;
        Assert.Equal(3, domain.Tags.Attachments.Count);
        Assert.Equal(2, domain.Tags.Units.Count);
        foreach (var dev in new[] { d1, d2, d3 })
        {
            var one = new byte[1];
            Assert.True(rig.Dma(dev, b1.Pasid, va, one, DmaAccess.Read).IsSuccess);
            Assert.Equal(42, one[0]);
        }

        mm.Unmap(va, 4 * Page);
        foreach (var dev in new[] { d1, d2, d3 })
        {
            var result = rig.Dma(dev, b1.Pasid, va, new byte[1], DmaAccess.Read);
            Assert.Equal(VtdFaultReason.FirstStageNotPresent, (VtdFaultReason)result.VendorCode);
        }

        Assert.Empty(rig.Hardware.StaleChecker.Reports);
        Assert.Empty(rig.Second.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Unbind_blocks_the_pasid_and_the_last_unbind_frees_the_domain()
    {
        var rig = new SvaRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(Page);
        mm.Write(va, [1]);
        var b1 = rig.Core.BindSva(d1, mm);
        var b2 = rig.Core.BindSva(d2, mm);
        Assert.Equal(2, mm.MmuNotifierCount); // the core's and the one shared domain's, nothing per device
        Assert.True(rig.Dma(d1, b1.Pasid, va, new byte[1], DmaAccess.Read).IsSuccess);

        b1.Unbind();
        Assert.False(VtdIommuDriver.DataOf(d1).ReadPasidEntry(b1.Pasid.Value).Present);
        var blocked = rig.Dma(d1, b1.Pasid, va, new byte[1], DmaAccess.Read);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, (VtdFaultReason)blocked.VendorCode);
        Assert.True(rig.Dma(d2, b2.Pasid, va, new byte[1], DmaAccess.Read).IsSuccess);
        Assert.Single(((VtdSvaDomain)b2.Domain).Tags.Attachments);

        b2.Unbind();
        Assert.Empty(rig.Core.SvaDomainsOf(mm));
        Assert.Equal(1, mm.MmuNotifierCount); // the domain unsubscribed when freed
        Assert.Empty(((VtdSvaDomain)b2.Domain).Tags.Units);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Process_exit_tears_the_pasid_entries_down_with_faults_ignored_until_unbind()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var process = rig.Machine.CreateProcess();
        ulong va = process.Mm.Map(4 * Page);
        process.Mm.Write(va, new byte[4 * Page]);
        var bond = rig.Core.BindSva(dev, process.Mm);
        Assert.True(rig.Dma(dev, bond.Pasid, va, new byte[Page], DmaAccess.Read).IsSuccess);
        var data = VtdIommuDriver.DataOf(dev);

        process.Exit();

        Assert.True(((VtdSvaDomain)bond.Domain).Released);
        Assert.Null(process.Mm.CpuPageTable);
        var entry = data.ReadPasidEntry(bond.Pasid.Value);
        Assert.False(entry.Present);
        Assert.True(entry.FaultProcessingDisable);
        long recorded = rig.Hardware.FaultRecorder.Recorded;
        var result = rig.Dma(dev, bond.Pasid, va, new byte[8], DmaAccess.Read);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, (VtdFaultReason)result.VendorCode);
        Assert.Equal(recorded, rig.Hardware.FaultRecorder.Recorded); // FPD: not reported
        Assert.True(rig.Core.GlobalPasids.IsAllocated(bond.Pasid));

        bond.Unbind();
        Assert.Equal(default, data.ReadPasidEntry(bond.Pasid.Value));
        Assert.False(rig.Core.GlobalPasids.IsAllocated(bond.Pasid));
    }

    [Fact]
    public void A_unit_that_cannot_share_cpu_tables_refuses_with_enodev_and_nothing_changes()
    {
        var rig = new SvaRig(new VtdCapabilities { FirstStage1G = false });
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;
        long descriptors = rig.Hardware.DescriptorsExecutedTotal;

        var error = Assert.Throws<IoasidException>(() => rig.Core.BindSva(dev, mm));

        Assert.Equal(Errno.ENODEV, error.Errno);
        AssertUnchanged(rig, dev, mm, frames);
        Assert.Equal(descriptors, rig.Hardware.DescriptorsExecutedTotal);
    }

    [Fact]
    public void A_unit_without_first_stage_fails_set_dev_pasid_with_einval_and_nothing_changes()
    {
        var rig = new SvaRig(new VtdCapabilities { FirstStage = false, Nesting = false });
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        long frames = rig.Machine.Memory.Frames.AllocatedFrames;

        var error = Assert.Throws<IoasidException>(() => rig.Core.BindSva(dev, mm));

        Assert.Equal(Errno.EINVAL, error.Errno);
        AssertUnchanged(rig, dev, mm, frames);
        Assert.Equal(0, mm.MmuNotifierCount);
    }

    [Fact]
    public void A_pasid_already_holding_a_paging_domain_makes_bind_ebusy_and_keeps_that_domain()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var paging = rig.Core.AllocPagingDomain(dev, 0, default);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(1), paging));
        var before = VtdIommuDriver.DataOf(dev).ReadPasidEntry(1);
        var mm = rig.Machine.CreateProcess().Mm;

        var error = Assert.Throws<IoasidException>(() => rig.Core.BindSva(dev, mm));

        Assert.Equal(Errno.EBUSY, error.Errno);
        Assert.Equal(before, VtdIommuDriver.DataOf(dev).ReadPasidEntry(1));
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
    }

    [Fact]
    public void Dma_through_a_huge_page_uses_the_cpu_tables_2m_leaf()
    {
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(2UL << 20, hugePages: true);
        mm.Write(va + 0x1F_F000, [0x5A]);
        var bond = rig.Core.BindSva(dev, mm);

        var result = rig.Hardware.Translate(new DmaRequest(dev.Rid, bond.Pasid, new Iova(va + 0x1F_F000), 1, DmaAccess.Read));

        Assert.True(result.IsSuccess);
        Assert.True(mm.TryGetFrame(va + 0x1F_F000, out var frame));
        Assert.Equal(frame, result.Address);
        Assert.NotEqual(0UL, mm.CpuPageTable!.ReadLeaf(va, out int level) & CpuPte.PageSize);
        Assert.Equal(2, level);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Device_dma_agrees_with_the_cpu_through_random_mmap_munmap_mprotect_and_writes(int seed)
    {
        const ulong window = 0x10_0000_0000;
        const int pages = 48;
        var random = new Random(seed);
        var rig = new SvaRig();
        var dev = rig.AddDevice(1);
        var mm = rig.Machine.CreateProcess().Mm;
        mm.Map(pages * Page, UserProt.ReadWrite, fixedVa: window);
        var bond = rig.Core.BindSva(dev, mm);

        for (int step = 0; step < 200; step++)
        {
            ulong va = window + ((ulong)random.Next(pages) * Page);
            ulong length = (ulong)random.Next(1, 5) * Page;
            try
            {
                switch (random.Next(5))
                {
                    case 0:
                        mm.Unmap(va, length);
                        break;
                    case 1:
                        mm.Map(length, random.Next(3) == 0 ? UserProt.Read : UserProt.ReadWrite, fixedVa: Math.Min(va, window + ((pages - 4) * Page)));
                        break;
                    case 2:
                        mm.Protect(va, length, random.Next(2) == 0 ? UserProt.Read : UserProt.ReadWrite);
                        break;
                    default:
                        var bytes = new byte[random.Next(1, 3 * (int)Page)];
                        random.NextBytes(bytes);
                        mm.TryWrite(va + (ulong)random.Next(64), bytes);
                        break;
                }
            }
            catch (IoasidException)
            {
                // mprotect over a hole: refused, nothing changed
            }

            ulong probe = window + ((ulong)random.Next(pages) * Page);
            var fromDevice = new byte[Page];
            var read = rig.Dma(dev, bond.Pasid, probe, fromDevice, DmaAccess.Read);
            if (mm.TryGetFrame(probe, out _))
            {
                Assert.True(read.IsSuccess, $"step {step}: DMA read of 0x{probe:x} faulted with 0x{read.VendorCode:x}");
                var fromCpu = new byte[Page];
                mm.Read(probe, fromCpu);
                Assert.Equal(fromCpu, fromDevice);

                var data = new byte[16];
                random.NextBytes(data);
                var write = rig.Dma(dev, bond.Pasid, probe, data, DmaAccess.Write);
                var seen = new byte[16];
                mm.Read(probe, seen);
                if (write.IsSuccess)
                {
                    Assert.Equal(data, seen);
                }
                else
                {
                    Assert.Equal(VtdFaultReason.FirstStageWriteNotPermitted, (VtdFaultReason)write.VendorCode);
                    Assert.Equal(Errno.EFAULT, mm.TryWrite(probe, data)); // the CPU may not write there either
                }
            }
            else
            {
                Assert.Equal(VtdFaultReason.FirstStageNotPresent, (VtdFaultReason)read.VendorCode);
            }

            Assert.Empty(rig.Hardware.StaleChecker.Reports);
        }
    }

    private static void AssertUnchanged(SvaRig rig, IommuDevice dev, UserAddressSpace mm, long frames)
    {
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
        Assert.Null(rig.Core.SvaPasidOf(mm));
        Assert.Empty(rig.Core.GetAttachedPasids(dev));
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(frames, rig.Machine.Memory.Frames.AllocatedFrames);
        Assert.False(VtdIommuDriver.DataOf(dev).ReadPasidEntry(1).Present);
    }

    /// <summary>A machine whose processes and VT-d units share one memory, with the stale checker on.</summary>
    [Fact]
    public void An_ats_device_cached_sva_translation_is_flushed_from_its_device_tlb_by_munmap()
    {
        var rig = new SvaRig(new VtdCapabilities { DeviceTlb = true });
        var dev = rig.AddDevice(1, ats: true);
        var mm = rig.Machine.CreateProcess().Mm;
        ulong va = mm.Map(4 * Page);
        mm.Write(va + Page, [9, 8, 7, 6]);
        var bond = rig.Core.BindSva(dev, mm);
        var buffer = new byte[4];
        Assert.True(rig.Dma(dev, bond.Pasid, va + Page, buffer, DmaAccess.Read).IsSuccess); // fills the device TLB
        var cached = rig.Hardware.Translate(new DmaRequest(dev.Rid, bond.Pasid, new Iova(va + Page), 4, DmaAccess.Read));
        Assert.True(cached.DeviceTlbHit);

        mm.Unmap(va + Page, Page);

        // The notifier sent a PASID-based IOTLB invalidation and then a PASID-based device-TLB invalidation: the next
        // access is a translation request again, and it faults; nothing stale was hit anywhere.
        var after = rig.Dma(dev, bond.Pasid, va + Page, buffer, DmaAccess.Read);
        Assert.Equal(VtdFaultReason.FirstStageNotPresent, (VtdFaultReason)after.VendorCode);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    private sealed class SvaRig
    {
        public SvaRig(VtdCapabilities? capabilities = null)
        {
            Machine = new Machine(1UL << 30);
            Driver = new VtdIommuDriver(Core, Machine.Memory);
            Unit = Driver.AddUnit("dmar0", capabilities, pci => pci.Rid.Bus < 0x80);
            Second = Driver.AddUnit("dmar1", capabilities, pci => pci.Rid.Bus >= 0x80);
            Core.RegisterDriver(Driver.Ops);
            Unit.Hardware.StaleChecker.Enabled = true;
            Second.Hardware.StaleChecker.Enabled = true;
        }

        public Machine Machine { get; }

        public IommuCore Core { get; } = new();

        public VtdIommuDriver Driver { get; }

        public VtdUnit Unit { get; }

        public VtdUnit Second { get; }

        public VtdIommuHardware Hardware => Unit.Hardware;

        public IommuDevice AddDevice(byte bus, bool ats = false) => Core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), $"dev{bus}", pasidBits: 8, ats: ats));

        public DmaResult Dma(IommuDevice device, Pasid pasid, ulong va, Span<byte> buffer, DmaAccess access) =>
            VtdIommuDriver.DataOf(device).Unit.Hardware.Dma(new DmaRequest(device.Rid, pasid, new Iova(va), (ulong)buffer.Length, access), buffer);
    }
}
