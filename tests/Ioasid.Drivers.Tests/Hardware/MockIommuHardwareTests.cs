using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Mock;
using Ioasid.Drivers.Mock;
using Ioasid.Drivers.Tests.Mock;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Tests.Hardware;

public class MockIommuHardwareTests
{
    private const ulong K4 = F.PageSize4K;
    private const ulong M2 = F.PageSize2M;

    [Fact]
    public void Hardware_walk_agrees_with_the_software_walk()
    {
        var rig = new MockRig();
        var random = new Random(7);
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x100_0000, K4, 700));
        Assert.Equal(Errno.None, rig.Map(0x4000_0000, 0x2000_0000, M2, 3));
        Assert.Equal(Errno.None, rig.Map(0x7FFF_F000, 0x300_0000, K4, 1));

        for (int i = 0; i < 3000; i++)
        {
            ulong iova = (i % 3) switch
            {
                0 => MockRig.ApertureStart + (ulong)random.NextInt64(800 * (long)K4),
                1 => 0x4000_0000 + (ulong)random.NextInt64(4 * (long)M2),
                _ => (ulong)random.NextInt64(1L << 31),
            };
            bool mapped = rig.Table.IovaToPhys(new Iova(iova), out PhysAddr expected);
            TranslationResult result = rig.Translate(iova);
            Assert.Equal(mapped, result.IsSuccess);
            if (mapped)
            {
                Assert.Equal(expected, result.Address);
            }
            else
            {
                Assert.Equal(FaultReason.Translation, result.Fault);
            }

            // The uncached walk agrees as well.
            FaultReason walked = rig.Hardware.Walk(rig.Table.Root, new Iova(iova), out Translation t, out _);
            Assert.Equal(mapped, walked == FaultReason.None);
            if (mapped)
            {
                Assert.Equal(expected, t.OutputFor(new Iova(iova)));
            }
        }

        Assert.True(rig.Hardware.Iotlb.Hits > 0);
    }

    [Fact]
    public void Translation_reports_the_rest_of_the_leaf_and_hits_the_iotlb_the_second_time()
    {
        var rig = new MockRig();
        Assert.Equal(Errno.None, rig.Map(0x4000_0000, 0x2000_0000, M2, 1, IommuProt.Read));
        TranslationResult first = rig.Translate(0x4000_0000 + 0x1_0010);
        Assert.True(first.IsSuccess);
        Assert.False(first.IotlbHit);
        Assert.Equal(new PhysAddr(0x2001_0010), first.Address);
        Assert.Equal(M2 - 0x1_0010, first.Length);

        TranslationResult second = rig.Translate(0x4000_0000 + 0x1F_F000);
        Assert.True(second.IotlbHit);
        Assert.Equal(new PhysAddr(0x201F_F000), second.Address);
        Assert.Equal(K4, second.Length);
        Assert.Equal(1, rig.Hardware.Iotlb.Count);
        Assert.Equal(1, rig.Hardware.Walks);
    }

    [Fact]
    public void Unmap_and_invalidation_make_dma_fault_even_after_caching()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova, 0x100_0000, K4, 8));
        var buffer = new byte[8 * (int)K4];
        Assert.True(rig.Hardware.Dma(DmaRequest.ForRead(MockRig.Device, new Iova(iova), (ulong)buffer.Length), buffer).IsSuccess);
        Assert.Equal(8, rig.Hardware.Iotlb.Count);

        Assert.Equal(8 * K4, rig.Unmap(iova, K4, 8));
        rig.Sync();
        Assert.Equal(0, rig.Hardware.Iotlb.Count);

        for (ulong i = 0; i < 8; i++)
        {
            TranslationResult r = rig.Translate(iova + (i * K4) + 4);
            Assert.Equal(FaultReason.Translation, r.Fault);
            Assert.Equal((uint)MockFaultCode.NotPresentLevel4, r.VendorCode); // every table was freed: the root entry is gone
        }

        DmaResult dma = rig.Hardware.Dma(DmaRequest.ForWrite(MockRig.Device, new Iova(iova + 100), 10), new byte[10]);
        Assert.False(dma.IsSuccess);
        Assert.Equal(0UL, dma.BytesTransferred);
        Assert.Equal(new Iova(iova + 100), dma.FaultIova);
        Assert.Equal(9, rig.Hardware.Faults.Count);
        FaultRecord record = rig.Hardware.Faults[8];
        Assert.Equal(new FaultRecord(MockRig.Device, null, new Iova(iova + 100), DmaAccess.Write, FaultReason.Translation, (uint)MockFaultCode.NotPresentLevel4), record);
    }

    [Fact]
    public void Unmap_without_invalidation_leaves_a_stale_hit_that_the_checker_reports()
    {
        var rig = new MockRig();
        rig.Hardware.StaleChecker.Enabled = true;
        var pasid = new Pasid(5);
        rig.Hardware.SetPasidEntry(MockRig.Device, pasid, MockContextEntry.Translate(rig.Table.Root, MockRig.Tag));
        const ulong iova = MockRig.ApertureStart + (3 * K4);
        Assert.Equal(Errno.None, rig.Map(iova, 0x100_0000, K4, 2));
        Assert.True(rig.Translate(iova).IsSuccess); // cached
        Assert.True(rig.Translate(iova).IotlbHit); // a clean hit: checked, not stale
        Assert.Empty(rig.Hardware.StaleChecker.Reports);

        // The driver clears the PTE and "forgets" the sync: the gather is dropped, nothing is invalidated.
        Assert.Equal(K4, rig.Unmap(iova, K4, 1));
        rig.Gather.Reset();

        var request = new DmaRequest(MockRig.Device, pasid, new Iova(iova + 0x10), 4, DmaAccess.Write);
        var data = new byte[] { 1, 2, 3, 4 };
        DmaResult dma = rig.Hardware.Dma(request, data);
        Assert.True(dma.IsSuccess); // the hardware used the stale entry, as real hardware would
        Assert.Equal(1u, rig.Memory.ReadU32(new PhysAddr(0x100_0010)) & 0xFF);

        StaleTranslation report = Assert.Single(rig.Hardware.StaleChecker.Reports);
        Assert.Equal(MockRig.Device, report.Rid);
        Assert.Equal(pasid, report.Pasid);
        Assert.Equal(new Iova(iova + 0x10), report.Iova);
        Assert.Equal(DmaAccess.Write, report.Access);
        Assert.Equal(MockRig.Tag, report.Tag);
        Assert.Equal(new Translation(new Iova(iova), new PhysAddr(0x100_0000), 12, DmaAccess.ReadWrite), report.Cached);
        Assert.Null(report.Current);
        Assert.Equal(1, rig.Hardware.StaleChecker.StaleHits);
        Assert.Contains("not mapped", report.ToString());

        // Remapped elsewhere without invalidation: the report carries both translations.
        Assert.Equal(Errno.None, rig.Map(iova, 0x900_0000, K4, 1, IommuProt.Read));
        Assert.True(rig.Translate(iova + 8).IsSuccess);
        StaleTranslation second = rig.Hardware.StaleChecker.Reports[1];
        Assert.Null(second.Pasid);
        Assert.Equal(new Translation(new Iova(iova), new PhysAddr(0x900_0000), 12, DmaAccess.Read), second.Current);
        Assert.Equal(new PhysAddr(0x100_0008), second.Cached.OutputFor(second.Iova));

        // The invalidation the driver owed removes the stale entry: the next access walks and is clean.
        rig.Hardware.InvalidateRange(MockRig.Tag, new Iova(iova), K4);
        TranslationResult fresh = rig.Translate(iova + 8);
        Assert.False(fresh.IotlbHit);
        Assert.Equal(new PhysAddr(0x900_0008), fresh.Address);
        Assert.Equal(2, rig.Hardware.StaleChecker.Reports.Count);
    }

    [Fact]
    public void Stale_hits_are_not_checked_unless_enabled()
    {
        var rig = new MockRig();
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x100_0000, K4, 1));
        Assert.True(rig.Translate(MockRig.ApertureStart).IsSuccess);
        rig.Unmap(MockRig.ApertureStart, K4, 1);
        rig.Gather.Reset();
        Assert.True(rig.Translate(MockRig.ApertureStart).IotlbHit);
        Assert.Equal(0, rig.Hardware.StaleChecker.Checks);
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
    }

    [Fact]
    public void Write_to_a_read_only_mapping_is_a_permission_fault()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova, 0x100_0000, K4, 1, IommuProt.Read));
        Assert.Equal(Errno.None, rig.Map(iova + K4, 0x200_0000, K4, 1, IommuProt.Write));

        Assert.True(rig.Translate(iova, DmaAccess.Read).IsSuccess);
        TranslationResult write = rig.Translate(iova, DmaAccess.Write); // from the IOTLB
        Assert.Equal(FaultReason.Permission, write.Fault);
        Assert.Equal((uint)MockFaultCode.Permission, write.VendorCode);
        Assert.Equal(FaultReason.Permission, rig.Translate(iova, DmaAccess.ReadWrite).Fault);

        Assert.True(rig.Translate(iova + K4, DmaAccess.Write).IsSuccess);
        Assert.Equal(FaultReason.Permission, rig.Translate(iova + K4, DmaAccess.Read).Fault);

        // Permissions AND across levels: a table entry without W makes a RW leaf read-only.
        rig.Hardware.InvalidateAll();
        ulong l2 = MockPageTableTests.LevelTwoTable(rig, iova) + ((ulong)F.Index(iova, 2) * 8);
        rig.Memory.WriteU64(new PhysAddr(l2), rig.Memory.ReadU64(new PhysAddr(l2)) & ~F.Write);
        Assert.Equal(FaultReason.Permission, rig.Translate(iova + K4, DmaAccess.Write).Fault);
        Assert.Equal(4, rig.Hardware.Faults.Count);
        Assert.All(rig.Hardware.Faults.Snapshot(), f => Assert.Equal(FaultReason.Permission, f.Reason));
    }

    [Fact]
    public void Blocked_identity_and_missing_entries()
    {
        var rig = new MockRig();
        Rid blocked = Rid.Create(0, 4, 0);
        Rid identity = Rid.Create(0, 5, 0);
        Rid absent = Rid.Create(0, 6, 0);
        rig.Hardware.SetRidEntry(blocked, MockContextEntry.Blocked);
        rig.Hardware.SetRidEntry(identity, MockContextEntry.Identity);

        TranslationResult b = rig.Hardware.Translate(DmaRequest.ForRead(blocked, new Iova(0x1000), 4));
        Assert.Equal(FaultReason.Blocked, b.Fault);
        Assert.Equal((uint)MockFaultCode.Blocked, b.VendorCode);

        TranslationResult n = rig.Hardware.Translate(DmaRequest.ForRead(absent, new Iova(0x1000), 4));
        Assert.Equal(FaultReason.NoEntry, n.Fault);
        Assert.Equal((uint)MockFaultCode.NoRidEntry, n.VendorCode);

        TranslationResult p = rig.Hardware.Translate(DmaRequest.ForRead(MockRig.Device, new Iova(0x1000), 4).WithPasid(new Pasid(9)));
        Assert.Equal(FaultReason.NoEntry, p.Fault);
        Assert.Equal((uint)MockFaultCode.NoPasidEntry, p.VendorCode);
        Assert.Equal(new Pasid(9), rig.Hardware.Faults[2].Pasid);

        TranslationResult i = rig.Hardware.Translate(DmaRequest.ForWrite(identity, new Iova(0x12_3456), 4));
        Assert.True(i.IsSuccess);
        Assert.Equal(new PhysAddr(0x12_3456), i.Address);
        Assert.Equal(K4 - 0x456, i.Length);
        Assert.Equal(0, rig.Hardware.Iotlb.Count); // identity bypasses the IOTLB
        Assert.Equal(FaultReason.ExternalAbort, rig.Hardware.Translate(DmaRequest.ForRead(identity, new Iova(rig.Memory.Size), 4)).Fault);

        // Attaching blocked over a translating entry: the device's DMA faults at once, cached entries or not.
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x100_0000, K4, 1));
        Assert.True(rig.Translate(MockRig.ApertureStart).IsSuccess);
        rig.Hardware.SetRidEntry(MockRig.Device, MockContextEntry.Blocked);
        Assert.Equal(FaultReason.Blocked, rig.Translate(MockRig.ApertureStart).Fault);
        Assert.True(rig.Hardware.ClearEntry(MockRig.Device));
        Assert.False(rig.Hardware.ClearEntry(MockRig.Device));
        Assert.Equal(FaultReason.NoEntry, rig.Translate(MockRig.ApertureStart).Fault);
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Hardware.SetPasidEntry(MockRig.Device, Pasid.NoPasid, MockContextEntry.Identity));
    }

    [Fact]
    public void Pasid_entries_translate_through_their_own_tables()
    {
        var rig = new MockRig();
        var other = new MockPageTable(rig.Memory);
        var pasid = new Pasid(0x42);
        rig.Hardware.SetPasidEntry(MockRig.Device, pasid, MockContextEntry.Translate(other.Root, 8));
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x100_0000, K4, 1));
        Assert.Equal(Errno.None, other.MapPages(new Iova(MockRig.ApertureStart), new PhysAddr(0x700_0000), K4, 1, IommuProt.Read, out _));

        var request = DmaRequest.ForRead(MockRig.Device, new Iova(MockRig.ApertureStart), 1);
        Assert.Equal(new PhysAddr(0x100_0000), rig.Hardware.Translate(request).Address);
        Assert.Equal(new PhysAddr(0x700_0000), rig.Hardware.Translate(request.WithPasid(pasid)).Address);
        Assert.True(rig.Hardware.TryGetEntry(MockRig.Device, pasid, out MockContextEntry e));
        Assert.Equal(8UL, e.Tag);
        Assert.True(rig.Hardware.ClearEntry(MockRig.Device, pasid));
        Assert.Equal(FaultReason.NoEntry, rig.Hardware.Translate(request.WithPasid(pasid)).Fault);
        Assert.True(rig.Hardware.Translate(request).IsSuccess); // the RID keeps working
    }

    [Fact]
    public void Devices_sharing_a_tag_share_cached_entries_and_one_invalidation()
    {
        var rig = new MockRig();
        Rid second = Rid.Create(0, 3, 1);
        rig.Hardware.SetRidEntry(second, MockContextEntry.Translate(rig.Table.Root, MockRig.Tag));
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x100_0000, K4, 1));
        Assert.False(rig.Translate(MockRig.ApertureStart).IotlbHit);
        Assert.True(rig.Hardware.Translate(DmaRequest.ForRead(second, new Iova(MockRig.ApertureStart), 1)).IotlbHit);

        rig.Unmap(MockRig.ApertureStart, K4, 1);
        rig.Sync();
        Assert.Equal(FaultReason.Translation, rig.Translate(MockRig.ApertureStart).Fault);
        Assert.Equal(FaultReason.Translation, rig.Hardware.Translate(DmaRequest.ForRead(second, new Iova(MockRig.ApertureStart), 1)).Fault);
    }

    [Fact]
    public void Out_of_range_iova_and_malformed_entries_fault()
    {
        var rig = new MockRig();
        Assert.Equal(FaultReason.AddressSize, rig.Translate(F.InputLimit).Fault);
        Assert.Equal((uint)MockFaultCode.AddressSize, rig.Hardware.Faults[0].VendorCode);

        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova, 0x100_0000, K4, 1));
        ulong leafTable = MockPageTableTests.LeafTable(rig, iova);
        rig.Memory.WriteU64(new PhysAddr(leafTable), 0x100_0000 | F.Present | F.Read | (1UL << 9));
        Assert.Equal(FaultReason.InvalidEntry, rig.Translate(iova).Fault);

        // A leaf pointing past the end of memory: the walk succeeds, the access aborts.
        rig.Memory.WriteU64(new PhysAddr(leafTable), F.EncodeLeaf4K(new PhysAddr(rig.Memory.Size), F.Read));
        Assert.Equal(FaultReason.ExternalAbort, rig.Translate(iova).Fault);

        // A table pointer past the end of memory aborts the walk.
        rig.Hardware.InvalidateAll();
        ulong l2Entry = MockPageTableTests.LevelTwoTable(rig, iova) + ((ulong)F.Index(iova, 2) * 8);
        rig.Memory.WriteU64(new PhysAddr(l2Entry), F.EncodeTable(new PhysAddr(rig.Memory.Size + K4)));
        Assert.Equal(FaultReason.ExternalAbort, rig.Translate(iova).Fault);
    }

    [Fact]
    public void Fault_log_overflow_sets_the_flag_and_drops_new_records()
    {
        var rig = new MockRig(faultLogCapacity: 4);
        for (ulong i = 0; i < 6; i++)
        {
            Assert.False(rig.Translate(MockRig.ApertureStart + (i * K4)).IsSuccess);
        }

        FaultLog<FaultRecord> log = rig.Hardware.Faults;
        Assert.Equal(4, log.Count);
        Assert.True(log.IsFull);
        Assert.True(log.Overflow);
        Assert.Equal(4, log.Recorded);
        Assert.Equal(2, log.Dropped);
        Assert.Equal(6, rig.Hardware.FaultCount);
        Assert.Equal(new Iova(MockRig.ApertureStart + (3 * K4)), log[3].Iova); // the first four were kept

        Assert.True(log.TryDequeue(out FaultRecord? oldest));
        Assert.Equal(new Iova(MockRig.ApertureStart), oldest!.Iova);
        Assert.True(log.Overflow); // until software clears it
        log.ClearOverflow();
        Assert.False(rig.Translate(MockRig.ApertureStart + (9 * K4)).IsSuccess);
        Assert.False(log.Overflow);
        Assert.Equal(new Iova(MockRig.ApertureStart + (9 * K4)), log[3].Iova);
        Assert.False(rig.Translate(MockRig.ApertureStart + (10 * K4)).IsSuccess);
        Assert.True(log.Overflow);
    }

    [Fact]
    public void Dma_across_a_page_boundary_reaches_two_frames()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        const ulong frameA = 0x300_0000;
        const ulong frameB = 0x123_4000; // not contiguous with A, and below it
        Assert.Equal(Errno.None, rig.Map(iova, frameA, K4, 1));
        Assert.Equal(Errno.None, rig.Map(iova + K4, frameB, K4, 1));

        byte[] data = Enumerable.Range(1, 16).Select(b => (byte)b).ToArray();
        DmaResult write = rig.Hardware.Dma(DmaRequest.ForWrite(MockRig.Device, new Iova(iova + K4 - 8), 16), data);
        Assert.True(write.IsSuccess);
        Assert.Equal(16UL, write.BytesTransferred);

        var tailOfA = new byte[8];
        var headOfB = new byte[8];
        rig.Memory.Read(new PhysAddr(frameA + K4 - 8), tailOfA);
        rig.Memory.Read(new PhysAddr(frameB), headOfB);
        Assert.Equal(data[..8], tailOfA);
        Assert.Equal(data[8..], headOfB);

        var back = new byte[16];
        Assert.True(rig.Hardware.Dma(DmaRequest.ForRead(MockRig.Device, new Iova(iova + K4 - 8), 16), back).IsSuccess);
        Assert.Equal(data, back);

        // The next page is unmapped: a DMA running into it moves the first part and reports the faulting page.
        DmaResult partial = rig.Hardware.Dma(DmaRequest.ForWrite(MockRig.Device, new Iova(iova + (2 * K4) - 4), 8), new byte[8]);
        Assert.False(partial.IsSuccess);
        Assert.Equal(4UL, partial.BytesTransferred);
        Assert.Equal(new Iova(iova + (2 * K4)), partial.FaultIova);
        Assert.Equal(FaultReason.Translation, partial.Fault);

        Assert.Throws<ArgumentException>(() => rig.Hardware.Dma(DmaRequest.ForWrite(MockRig.Device, new Iova(iova), 8), new byte[4]));
        Assert.Throws<ArgumentException>(() => rig.Hardware.Dma(new DmaRequest(MockRig.Device, null, new Iova(iova), 4, DmaAccess.ReadWrite), new byte[4]));
    }
}
