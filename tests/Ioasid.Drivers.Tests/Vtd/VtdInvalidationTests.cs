using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>What each queued-invalidation descriptor drops, and the queue's error handling (drivers.md §2.11, §5 invariants 17–21).</summary>
public class VtdInvalidationTests
{
    private static bool Cached(VtdIommuHardware hw, ushort did, uint pasid, ulong iova, bool firstStage = false) =>
        hw.Iotlb.TryLookup(VtdIotlbTag.Compose(did, pasid, firstStage), new Iova(iova), out _);

    [Fact]
    public void A_psi_with_address_mask_drops_exactly_the_block_of_its_domain_id()
    {
        var rig = new VtdRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var a = rig.Attach(d1);
        var b = rig.Attach(d2);
        rig.Map(a, 0, 0x10_0000, 8 * K4);
        rig.Map(b, 0, 0x20_0000, 8 * K4);
        for (ulong p = 0; p < 8; p++)
        {
            Translate(d1, p * K4);
            Translate(d2, p * K4);
        }

        Assert.Equal(16, rig.Hardware.Iotlb.Count);
        ushort didA = 2;
        ushort didB = 3;
        rig.Unit.Submit(InvalidationDescriptor.IotlbPage(didA, 4 * K4, 2, leafOnly: true)); // pages 4..7 of A
        rig.Unit.Flush();
        for (ulong p = 0; p < 8; p++)
        {
            Assert.Equal(p < 4, Cached(rig.Hardware, didA, 0, p * K4));
            Assert.True(Cached(rig.Hardware, didB, 0, p * K4));
        }

        // DSI drops every entry of the DID; global drops the rest
        rig.Unit.Submit(InvalidationDescriptor.IotlbDomain(didA));
        rig.Unit.Flush();
        Assert.Equal(8, rig.Hardware.Iotlb.Count);
        rig.Unit.Submit(InvalidationDescriptor.IotlbGlobal());
        rig.Unit.Flush();
        Assert.Equal(0, rig.Hardware.Iotlb.Count);
    }

    [Fact]
    public void A_pasid_based_iotlb_invalidation_does_not_touch_second_stage_entries()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x1000, 0x5000, K4);
        Assert.True(Translate(dev, 0x1000).IsSuccess);
        var gather = new IotlbGather();
        domain.Ops.UnmapPages!(domain, new Iova(0x1000), K4, 1, gather);

        // the wrong descriptor type for a second-stage domain: the stale entry survives
        rig.Unit.Submit(InvalidationDescriptor.PasidIotlbAll(2, 0));
        rig.Unit.Flush();
        Assert.True(Translate(dev, 0x1000).IotlbHit);
        Assert.Single(rig.Hardware.StaleChecker.Reports);

        rig.Unit.Submit(InvalidationDescriptor.IotlbPage(2, 0x1000, 0, leafOnly: true));
        rig.Unit.Flush();
        Assert.False(Translate(dev, 0x1000).IsSuccess);
        gather.Reset();
    }

    [Fact]
    public void A_context_cache_invalidation_without_the_iotlb_one_leaves_old_translations_usable_in_legacy_mode()
    {
        var rig = new VtdRig(new VtdCapabilities { ScalableMode = false, PasidBits = 0, Nesting = false, FirstStage = false });
        var dev = rig.AddDevice(1, pasidBits: 0);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x1000, 0x5000, 2 * K4);
        Assert.True(Translate(dev, 0x1000).IsSuccess);

        // point the context entry at an empty table, same DID, and invalidate only the context cache
        ulong context = (rig.ReadU64(rig.Unit.RootTable.Value + 16) & ~0xFFFUL);
        var empty = rig.Memory.Frames.AllocateZeroed();
        rig.Memory.WriteU64(new PhysAddr(context), empty.Value | 1);
        rig.Unit.Submit(InvalidationDescriptor.ContextDevice(2, dev.Rid.Bdf));
        rig.Unit.Flush();
        Assert.Equal(0x5000UL, Translate(dev, 0x1000).Address.Value); // the IOTLB still serves DID 2
        Assert.False(Translate(dev, 0x2000).IsSuccess);               // a miss walks the new (empty) table

        rig.Unit.Submit(InvalidationDescriptor.IotlbDomain(2));
        rig.Unit.Flush();
        Assert.False(Translate(dev, 0x1000).IsSuccess);
    }

    [Fact]
    public void Cached_context_and_pasid_entries_stay_in_use_until_their_caches_are_invalidated()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x1000, 0x5000, K4);
        Assert.True(Translate(dev, 0x1000).IsSuccess);
        var data = VtdIommuDriver.DataOf(dev);
        ulong entry = data.PasidEntryAddress(0, allocate: false).Value;
        rig.Memory.WriteU64(new PhysAddr(entry), 0); // clear P behind the hardware's back
        rig.Unit.Submit(InvalidationDescriptor.IotlbGlobal());
        rig.Unit.Flush();
        Assert.True(Translate(dev, 0x1000).IsSuccess); // the PASID cache still holds the entry
        rig.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCachePasidGranularity, 2, 0));
        rig.Unit.Flush();
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Translate(dev, 0x1000)));
    }

    [Fact]
    public void A_descriptor_with_reserved_bits_sets_iqe_and_stops_the_queue_before_the_wait()
    {
        var rig = new VtdRig();
        var hw = rig.Hardware;
        long before = hw.DescriptorsExecutedTotal;
        ulong head = hw.ReadRegister64(VtdRegisters.QueueHead);
        rig.Unit.Submit(new InvalidationDescriptor(InvalidationDescriptor.IotlbGlobal().Q0 | (1UL << 40), 0)); // qw0 bit 40 is reserved
        Assert.Throws<InvalidOperationException>(() => rig.Unit.Flush());
        Assert.NotEqual(0u, hw.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.InvalidationQueueError);
        Assert.Equal(head, hw.ReadRegister64(VtdRegisters.QueueHead)); // stopped at the bad descriptor
        Assert.Equal(before, hw.DescriptorsExecutedTotal);             // the wait after it did not run
    }

    [Fact]
    public void A_wait_descriptor_writes_its_status_after_the_descriptors_before_it()
    {
        var rig = new VtdRig();
        var hw = rig.Hardware;
        var status = rig.Memory.Frames.AllocateZeroed();
        long iotlb = hw.DescriptorsExecuted(InvalidationDescriptorType.Iotlb);
        rig.Unit.Submit(InvalidationDescriptor.IotlbGlobal());
        rig.Unit.Submit(InvalidationDescriptor.Wait(0x1234_5678, status, interrupt: true));
        rig.Unit.Flush();
        Assert.Equal(0x1234_5678u, rig.Memory.ReadU32(status));
        Assert.Equal(iotlb + 1, hw.DescriptorsExecuted(InvalidationDescriptorType.Iotlb));
        Assert.Equal(VtdRegisters.WaitComplete, hw.ReadRegister32(VtdRegisters.CompletionStatus));
        Assert.Equal(hw.ReadRegister64(VtdRegisters.QueueTail), hw.ReadRegister64(VtdRegisters.QueueHead));
    }

    [Fact]
    public void A_scalable_mode_psi_also_drops_every_first_stage_entry_of_the_domain_id()
    {
        var rig = new VtdRig();
        rig.Driver.FirstStageByDefault = true;
        var dev = rig.AddDevice(1);
        var fs = rig.Attach(dev);
        Assert.Equal(VtdPagingStage.FirstStage, fs.Stage);
        rig.Map(fs, 0x10_0000, 0x5000, K4);
        Assert.True(Translate(dev, 0x10_0000).IsSuccess);
        Assert.True(Cached(rig.Hardware, 2, 0, 0x10_0000, firstStage: true));
        rig.Unit.Submit(InvalidationDescriptor.IotlbPage(2, 0x7000_0000, 0, leafOnly: true)); // far away
        rig.Unit.Flush();
        Assert.False(Cached(rig.Hardware, 2, 0, 0x10_0000, firstStage: true));
    }

    [Fact]
    public void Caching_mode_caches_not_present_entries_so_the_driver_syncs_on_map()
    {
        var rig = new VtdRig(new VtdCapabilities { CachingMode = true });
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        Assert.False(Translate(dev, 0x1000).IsSuccess); // cached as not present
        var gather = new IotlbGather();
        Assert.Equal(Errno.None, domain.Ops.MapPages!(domain, new Iova(0x1000), new PhysAddr(0x5000), K4, 1, RW, out _));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, 0x1000))); // the negative entry hits
        Assert.Equal(Errno.None, domain.Ops.IotlbSyncMap!(domain, new Iova(0x1000), K4));
        Assert.True(Translate(dev, 0x1000).IsSuccess);

        // through iommu_map the core calls iotlb_sync_map itself
        Assert.False(Translate(dev, 0x3000).IsSuccess);
        rig.Map(domain, 0x3000, 0x6000, K4);
        Assert.True(Translate(dev, 0x3000).IsSuccess);
        gather.Reset();
    }
}
