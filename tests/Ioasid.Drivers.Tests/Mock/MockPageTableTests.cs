using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Tests.Mock;

public class MockPageTableTests
{
    private const ulong K4 = F.PageSize4K;
    private const ulong M2 = F.PageSize2M;

    [Fact]
    public void Mapped_run_is_written_entry_by_entry_in_memory()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart + 0x10_0000; // index 256 of its leaf table
        const ulong pa = 0x2000_0000;
        Assert.Equal(1, rig.Table.TablePages);

        Assert.Equal(Errno.None, rig.Table.MapPages(new Iova(iova), new PhysAddr(pa), K4, 256, IommuProt.Read | IommuProt.Write, out ulong mapped));
        Assert.Equal(256 * K4, mapped);
        Assert.Equal(4, rig.Table.TablePages); // root + one table per lower level
        Assert.Equal(rig.FramesAtStart + 4, rig.Memory.Frames.AllocatedFrames);

        // Walk by hand with raw reads: the hardware's view of the table.
        ulong table = rig.Table.Root.Value;
        for (int level = 4; level > 1; level--)
        {
            int index = (int)((iova >> (12 + (9 * (level - 1)))) & 511);
            ulong entry = rig.Memory.ReadU64(new PhysAddr(table + ((ulong)index * 8)));
            Assert.Equal(0x7UL, entry & 0xFFF); // P | R | W, nothing else in the low bits
            Assert.Equal(level == 2 ? 256UL : 1UL, entry >> 52); // SWCNT: present entries of the table below
            table = entry & 0x000F_FFFF_FFFF_F000UL;
            Assert.True(rig.Memory.Frames.IsAllocated(new PhysAddr(table)));
        }

        for (int i = 0; i < 512; i++)
        {
            ulong entry = rig.Memory.ReadU64(new PhysAddr(table + ((ulong)i * 8)));
            ulong expected = i < 256 ? 0 : (pa + ((ulong)(i - 256) * K4)) | 0x7;
            Assert.Equal(expected, entry);
        }
    }

    [Fact]
    public void Read_only_and_write_only_permissions_are_encoded()
    {
        var rig = new MockRig();
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart, 0x10_0000, K4, 1, IommuProt.Read | IommuProt.Cache));
        Assert.Equal(Errno.None, rig.Map(MockRig.ApertureStart + K4, 0x20_0000, K4, 1, IommuProt.Write | IommuProt.NoExec));
        Assert.True(rig.Table.IovaToPhys(new Iova(MockRig.ApertureStart + 0x123), out PhysAddr pa));
        Assert.Equal(new PhysAddr(0x10_0123), pa);

        ulong leafTable = LeafTable(rig, MockRig.ApertureStart);
        Assert.Equal(0x10_0003UL, rig.Memory.ReadU64(new PhysAddr(leafTable)));
        Assert.Equal(0x20_0005UL, rig.Memory.ReadU64(new PhysAddr(leafTable + 8)));
    }

    [Fact]
    public void Bad_arguments_are_refused_and_change_nothing()
    {
        var rig = new MockRig();
        var table = rig.Table;
        Assert.Equal(Errno.EINVAL, table.MapPages(new Iova(0x1000), new PhysAddr(0x1000), 8192, 1, IommuProt.Read, out ulong mapped));
        Assert.Equal(Errno.EINVAL, table.MapPages(new Iova(0x1800), new PhysAddr(0x1000), K4, 1, IommuProt.Read, out mapped));
        Assert.Equal(Errno.EINVAL, table.MapPages(new Iova(0x20_0000), new PhysAddr(0x1000), M2, 1, IommuProt.Read, out mapped));
        Assert.Equal(Errno.EINVAL, table.MapPages(new Iova(0x1000), new PhysAddr(0x1000), K4, 1, IommuProt.Cache, out mapped));
        Assert.Equal(Errno.ERANGE, table.MapPages(new Iova(F.InputLimit - K4), new PhysAddr(0x1000), K4, 2, IommuProt.Read, out mapped));
        Assert.Equal(Errno.ERANGE, table.MapPages(new Iova(F.InputLimit), new PhysAddr(0x1000), K4, 1, IommuProt.Read, out mapped));
        Assert.Equal(Errno.ERANGE, table.MapPages(new Iova(0x1000), new PhysAddr(1UL << 52), K4, 1, IommuProt.Read, out mapped));
        Assert.Equal(0UL, mapped);
        Assert.Equal(Errno.None, table.MapPages(new Iova(0x1000), new PhysAddr(0x1000), K4, 0, IommuProt.Read, out mapped));
        Assert.Equal(1, table.TablePages);

        // The top page of the input space is mappable.
        Assert.Equal(Errno.None, table.MapPages(new Iova(F.InputLimit - K4), new PhysAddr(0x1000), K4, 1, IommuProt.Read, out mapped));
        Assert.True(table.IovaToPhys(new Iova(F.InputLimit - 1), out PhysAddr top));
        Assert.Equal(new PhysAddr(0x1FFF), top);
    }

    [Fact]
    public void Mapping_over_a_present_entry_fails_with_EEXIST_and_reports_progress()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova + (10 * K4), 0x50_0000, K4, 1));

        Assert.Equal(Errno.EEXIST, rig.Table.MapPages(new Iova(iova), new PhysAddr(0x100_0000), K4, 20, IommuProt.Read, out ulong mapped));
        Assert.Equal(10 * K4, mapped); // the first ten went in; the old mapping is intact
        Assert.True(rig.Table.IovaToPhys(new Iova(iova + (10 * K4)), out PhysAddr old));
        Assert.Equal(new PhysAddr(0x50_0000), old);
        Assert.False(rig.Table.IovaToPhys(new Iova(iova + (11 * K4)), out _));
        Assert.Equal(11UL, (ulong)F.SoftwareCount(rig.Memory.ReadU64(new PhysAddr(LevelTwoTable(rig, iova) + ((ulong)F.Index(iova, 2) * 8)))));
    }

    [Fact]
    public void Run_crossing_table_pages_is_mapped_and_translated()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart + (500 * K4);
        Assert.Equal(Errno.None, rig.Map(iova, 0x400_0000, K4, 1100));
        Assert.Equal(3 + 4, rig.Table.TablePages); // root, L3, L2 and four leaf tables (12 + 512 + 512 + 64 entries)
        for (ulong i = 0; i < 1100; i += 37)
        {
            Assert.True(rig.Table.IovaToPhys(new Iova(iova + (i * K4) + 5), out PhysAddr pa));
            Assert.Equal(new PhysAddr(0x400_0000 + (i * K4) + 5), pa);
        }

        Assert.False(rig.Table.IovaToPhys(new Iova(iova - K4), out _));
        Assert.False(rig.Table.IovaToPhys(new Iova(iova + (1100 * K4)), out _));
    }

    [Fact]
    public void Unmap_clears_entries_gathers_the_range_and_stops_at_holes()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova, 0x400_0000, K4, 16));

        Assert.Equal(0UL, rig.Unmap(iova + (16 * K4), K4, 4)); // a hole
        Assert.True(rig.Gather.IsEmpty);

        Assert.Equal(4 * K4, rig.Unmap(iova + (4 * K4), K4, 4));
        Assert.Equal(iova + (4 * K4), rig.Gather.Start);
        Assert.Equal(iova + (8 * K4) - 1, rig.Gather.End);
        Assert.Equal(K4, rig.Gather.PageSize);

        // Runs into the hole just made: unmaps page 3 only.
        Assert.Equal(K4, rig.Unmap(iova + (3 * K4), K4, 4));
        Assert.Equal(iova + (3 * K4), rig.Gather.Start);
        Assert.Equal(0, rig.Syncs); // adjacent: no early sync

        // Disjoint: the gathered range is synced first.
        Assert.Equal(2 * K4, rig.Unmap(iova + (12 * K4), K4, 2));
        Assert.Equal(1, rig.Syncs);
        Assert.Equal(iova + (12 * K4), rig.Gather.Start);
        Assert.Equal(iova + (14 * K4) - 1, rig.Gather.End);

        for (ulong i = 0; i < 16; i++)
        {
            bool expectMapped = i < 3 || (i >= 8 && i < 12) || i >= 14;
            Assert.Equal(expectMapped, rig.Table.IovaToPhys(new Iova(iova + (i * K4)), out _));
        }
    }

    [Fact]
    public void Two_megabyte_leaves_map_and_refuse_partial_unmap()
    {
        var rig = new MockRig();
        const ulong iova = 0x4000_0000; // 1 GiB: 2 MiB aligned
        const ulong pa = 0x1000_0000;
        Assert.Equal(Errno.None, rig.Map(iova, pa, M2, 2, IommuProt.Read));
        Assert.Equal(3, rig.Table.TablePages); // no level-1 table

        ulong l2 = LevelTwoTable(rig, iova);
        ulong entry = rig.Memory.ReadU64(new PhysAddr(l2 + ((ulong)F.Index(iova, 2) * 8)));
        Assert.Equal(pa | 0x83, entry); // ADDR | PS | R | P
        Assert.Equal(2UL, rig.Memory.ReadU64(new PhysAddr(LevelThreeTable(rig, iova) + ((ulong)F.Index(iova, 3) * 8))) >> 52);

        Assert.True(rig.Table.IovaToPhys(new Iova(iova + M2 + 0x12_3456), out PhysAddr inside));
        Assert.Equal(new PhysAddr(pa + M2 + 0x12_3456), inside);

        // A 4 KiB map inside the block and a 4 KiB unmap of part of it are refused; nothing changes.
        Assert.Equal(Errno.EEXIST, rig.Map(iova + K4, 0x5000_0000, K4, 1));
        Assert.Equal(0UL, rig.Unmap(iova + K4, K4, 1));
        Assert.Equal(0UL, rig.Unmap(iova, K4, 512)); // even all of it: a large IOPTE is never split
        Assert.True(rig.Gather.IsEmpty);
        Assert.True(rig.Table.IovaToPhys(new Iova(iova + K4), out _));

        // Whole-leaf unmap works and gathers at 2 MiB.
        Assert.Equal(2 * M2, rig.Unmap(iova, M2, 2));
        Assert.Equal(M2, rig.Gather.PageSize);
        Assert.False(rig.Table.IovaToPhys(new Iova(iova), out _));
    }

    [Fact]
    public void Four_kib_unmap_stops_at_a_two_megabyte_leaf()
    {
        var rig = new MockRig();
        const ulong block = 0x4000_0000;
        Assert.Equal(Errno.None, rig.Map(block - (2 * K4), 0x100_0000, K4, 2));
        Assert.Equal(Errno.None, rig.Map(block, 0x1000_0000, M2, 1));
        Assert.Equal(2 * K4, rig.Unmap(block - (2 * K4), K4, 4));
        Assert.True(rig.Table.IovaToPhys(new Iova(block), out _));
    }

    [Fact]
    public void Two_megabyte_map_over_a_table_fails_and_two_megabyte_unmap_removes_the_table()
    {
        var rig = new MockRig();
        const ulong iova = 0x4000_0000;
        Assert.Equal(Errno.None, rig.Map(iova + (5 * K4), 0x100_0000, K4, 3));
        Assert.Equal(Errno.EEXIST, rig.Map(iova, 0x1000_0000, M2, 1));
        Assert.Equal(4, rig.Table.TablePages);

        Assert.Equal(M2, rig.Unmap(iova, M2, 1));
        Assert.False(rig.Table.IovaToPhys(new Iova(iova + (5 * K4)), out _));
        Assert.Equal(3, rig.Table.PendingFreeTablePages); // the leaf table, then L2 and L3 emptied
        rig.Sync();
        Assert.Equal(1, rig.Table.TablePages);
        Assert.Equal(rig.FramesAtStart + 1, rig.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void Emptied_tables_are_freed_only_after_sync_and_destroy_frees_the_rest()
    {
        var rig = new MockRig();
        FrameAllocator frames = rig.Memory.Frames;
        const ulong a = MockRig.ApertureStart;
        const ulong b = 0x1_0000_0000; // another level-3 subtree
        Assert.Equal(Errno.None, rig.Map(a, 0x100_0000, K4, 600));
        Assert.Equal(Errno.None, rig.Map(b, 0x200_0000, K4, 10));
        long tables = rig.Table.TablePages;
        Assert.Equal(1 + 1 + 1 + 2 + 1 + 1, tables); // root, shared L3, L2 and two leaves for a, L2 and leaf for b
        Assert.Equal(rig.FramesAtStart + tables, frames.AllocatedFrames);

        // Empty the second leaf table of `a` (pages 512..599) while the first keeps entries.
        Assert.Equal(88 * K4, rig.Unmap(a + (512 * K4), K4, 88));
        Assert.Equal(1, rig.Table.PendingFreeTablePages);
        PhysAddr pending = rig.Gather.Freelist[0];
        Assert.True(frames.IsAllocated(pending)); // still allocated: the IOTLB may reference it until the sync
        Assert.Equal(rig.FramesAtStart + tables, frames.AllocatedFrames);

        rig.Sync();
        Assert.False(frames.IsAllocated(pending));
        Assert.Equal(0, rig.Table.PendingFreeTablePages);
        Assert.Equal(tables - 1, rig.Table.TablePages);

        // Emptying `a` entirely frees its leaf table and its L2; the L3 stays, `b` still uses it.
        Assert.Equal(512 * K4, rig.Unmap(a, K4, 512));
        Assert.Equal(2, rig.Table.PendingFreeTablePages);
        rig.Sync();
        Assert.Equal(tables - 3, rig.Table.TablePages);
        Assert.True(rig.Table.IovaToPhys(new Iova(b + (9 * K4)), out PhysAddr stillMapped));
        Assert.Equal(new PhysAddr(0x200_0000 + (9 * K4)), stillMapped);

        rig.Table.Destroy();
        Assert.True(rig.Table.IsDestroyed);
        Assert.Equal(0, rig.Table.TablePages);
        Assert.Equal(rig.FramesAtStart, frames.AllocatedFrames);
        rig.Table.Destroy(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => rig.Table.IovaToPhys(new Iova(a), out _));
    }

    [Fact]
    public void Early_sync_frees_only_the_tables_of_the_range_it_flushes()
    {
        var rig = new MockRig();
        FrameAllocator frames = rig.Memory.Frames;
        const ulong a = MockRig.ApertureStart; // leaf table of its own
        const ulong b = MockRig.ApertureStart + (4 * M2); // another leaf table under the same L2
        Assert.Equal(Errno.None, rig.Map(a, 0x100_0000, K4, 4));
        Assert.Equal(Errno.None, rig.Map(b, 0x200_0000, K4, 4));

        Assert.Equal(4 * K4, rig.Unmap(a, K4, 4));
        PhysAddr tableOfA = Assert.Single(rig.Gather.Freelist);
        Assert.True(rig.Translate(b).IsSuccess); // cache b before its unmap

        // Disjoint: AddPage syncs a's range (freeing a's table) before b's emptied table joins the freelist.
        Assert.Equal(4 * K4, rig.Unmap(b, K4, 4));
        Assert.Equal(1, rig.Syncs);
        Assert.False(frames.IsAllocated(tableOfA));
        Assert.Equal(3, rig.Gather.Freelist.Count); // b's leaf table, then the L2 and L3 it emptied
        Assert.All(rig.Gather.Freelist, t => Assert.True(frames.IsAllocated(t)));
        Assert.True(rig.Translate(b).IotlbHit); // b is not invalidated yet: its tables must not be reused

        rig.Sync();
        Assert.Equal(FaultReason.Translation, rig.Translate(b).Fault);
        Assert.Equal(1, rig.Table.TablePages);
    }

    [Fact]
    public void A_different_page_size_syncs_early()
    {
        var rig = new MockRig();
        const ulong iova = 0x4000_0000;
        Assert.Equal(Errno.None, rig.Map(iova - K4, 0x100_0000, K4, 1));
        Assert.Equal(Errno.None, rig.Map(iova, 0x1000_0000, M2, 1));
        Assert.Equal(K4, rig.Unmap(iova - K4, K4, 1));
        Assert.Equal(0, rig.Syncs);
        Assert.Equal(M2, rig.Unmap(iova, M2, 1)); // adjacent, but 2 MiB pages: sync the 4 KiB range first
        Assert.Equal(1, rig.Syncs);
        Assert.Equal(iova, rig.Gather.Start);
        Assert.Equal(M2, rig.Gather.PageSize);
    }

    [Fact]
    public void Map_reports_ENOMEM_with_progress_when_frames_run_out()
    {
        var memory = new PhysicalMemory(16 * K4); // frames 1..15
        var table = new MockPageTable(memory);
        const ulong stride = 1UL << 30; // each page needs its own L2 and leaf table
        int ok = 0;
        Errno error = Errno.None;
        for (ulong i = 0; i < 20 && error == Errno.None; i++)
        {
            error = table.MapPages(new Iova(i * stride), new PhysAddr(0x1000), K4, 1, IommuProt.Read, out _);
            ok += error == Errno.None ? 1 : 0;
        }

        Assert.Equal(Errno.ENOMEM, error);
        Assert.Equal(15, memory.Frames.AllocatedFrames);
        Assert.Equal(15, table.TablePages);
        table.Destroy();
        Assert.Equal(0, memory.Frames.AllocatedFrames);
        Assert.True(ok >= 6);
    }

    [Fact]
    public void Random_maps_and_unmaps_agree_with_a_dictionary_model()
    {
        var rig = new MockRig();
        var random = new Random(1234);
        var model = new Dictionary<ulong, ulong>(); // 4 KiB page index -> pa
        const ulong window = 4096; // pages, across several leaf tables
        for (int step = 0; step < 2000; step++)
        {
            ulong start = (ulong)random.Next((int)window);
            ulong count = (ulong)random.Next(1, 300);
            count = Math.Min(count, window - start);
            ulong iova = MockRig.ApertureStart + (start * K4);
            if (random.Next(2) == 0)
            {
                ulong pa = 0x1000_0000 + ((ulong)random.Next(1 << 16) * K4);
                Errno e = rig.Table.MapPages(new Iova(iova), new PhysAddr(pa), K4, count, IommuProt.Read, out ulong mapped);
                ulong expect = 0;
                while (expect < count && !model.ContainsKey(start + expect))
                {
                    model[start + expect] = pa + (expect * K4);
                    expect++;
                }

                Assert.Equal(expect * K4, mapped);
                Assert.Equal(expect == count ? Errno.None : Errno.EEXIST, e);
            }
            else
            {
                ulong expect = 0;
                while (expect < count && model.Remove(start + expect))
                {
                    expect++;
                }

                Assert.Equal(expect * K4, rig.Unmap(iova, K4, count));
                if (random.Next(4) == 0)
                {
                    rig.Sync();
                }
            }
        }

        rig.Sync();
        for (ulong p = 0; p < window; p++)
        {
            bool mapped = rig.Table.IovaToPhys(new Iova(MockRig.ApertureStart + (p * K4)), out PhysAddr pa);
            Assert.Equal(model.TryGetValue(p, out ulong expected), mapped);
            if (mapped)
            {
                Assert.Equal(expected, pa.Value);
            }
        }

        foreach (ulong p in model.Keys.ToArray())
        {
            Assert.Equal(K4, rig.Unmap(MockRig.ApertureStart + (p * K4), K4, 1));
        }

        rig.Sync();
        Assert.Equal(1, rig.Table.TablePages); // every emptied table was found through SWCNT
        rig.Table.Destroy();
        Assert.Equal(rig.FramesAtStart, rig.Memory.Frames.AllocatedFrames);
    }

    internal static ulong LevelThreeTable(MockRig rig, ulong iova) =>
        rig.Memory.ReadU64(new PhysAddr(rig.Table.Root.Value + ((ulong)F.Index(iova, 4) * 8))) & F.AddressMask;

    internal static ulong LevelTwoTable(MockRig rig, ulong iova) =>
        rig.Memory.ReadU64(new PhysAddr(LevelThreeTable(rig, iova) + ((ulong)F.Index(iova, 3) * 8))) & F.AddressMask;

    internal static ulong LeafTable(MockRig rig, ulong iova) =>
        rig.Memory.ReadU64(new PhysAddr(LevelTwoTable(rig, iova) + ((ulong)F.Index(iova, 2) * 8))) & F.AddressMask;
}
