using Ioasid.Drivers.Hardware;

namespace Ioasid.Drivers.Tests.Hardware;

public class IotlbTests
{
    private static IotlbEntry Entry(ulong tag, ulong iova, int shift = 12, ulong pa = 0x100_0000, DmaAccess perm = DmaAccess.ReadWrite) =>
        new(tag, new Translation(new Iova(iova), new PhysAddr(pa), shift, perm));

    [Fact]
    public void Lookup_finds_entries_of_every_page_size_under_their_tag()
    {
        var tlb = new Iotlb(64, [21, 12]);
        Assert.Equal([12, 21], tlb.PageShifts.ToArray());
        tlb.Insert(Entry(1, 0x4000, pa: 0x9000));
        tlb.Insert(Entry(1, 0x20_0000, shift: 21, pa: 0x4000_0000));

        Assert.True(tlb.TryLookup(1, new Iova(0x4FFF), out IotlbEntry small));
        Assert.Equal(new PhysAddr(0x9FFF), small.Translation.OutputFor(new Iova(0x4FFF)));
        Assert.True(tlb.TryLookup(1, new Iova(0x3F_FFFF), out IotlbEntry big));
        Assert.Equal(new PhysAddr(0x401F_FFFF), big.Translation.OutputFor(new Iova(0x3F_FFFF)));
        Assert.False(tlb.TryLookup(2, new Iova(0x4000), out _)); // other tag
        Assert.False(tlb.TryLookup(1, new Iova(0x5000), out _));
        Assert.Equal(2, tlb.Hits);
        Assert.Equal(2, tlb.Misses);

        tlb.Insert(Entry(1, 0x4000, pa: 0xA000)); // replaces
        Assert.Equal(2, tlb.Count);
        Assert.True(tlb.TryLookup(1, new Iova(0x4000), out small));
        Assert.Equal(new PhysAddr(0xA000), small.Translation.OutputBase);

        Assert.Throws<ArgumentException>(() => tlb.Insert(Entry(1, 0x1000, shift: 30)));
        Assert.Throws<ArgumentException>(() => tlb.Insert(Entry(1, 0x1000, shift: 21)));
    }

    [Fact]
    public void Invalidation_by_tag_mask_selects_vtd_and_smmu_style_tags()
    {
        var tlb = new Iotlb(256, [12]);
        // VT-d style: DID << 20 | PASID. SMMU style would be VMID << 16 | ASID: the same masks apply.
        static ulong Tag(ulong did, ulong pasid) => (did << 20) | pasid;
        for (ulong page = 0; page < 4; page++)
        {
            tlb.Insert(Entry(Tag(1, 0), page << 12));
            tlb.Insert(Entry(Tag(1, 7), page << 12));
            tlb.Insert(Entry(Tag(2, 7), page << 12));
        }

        const ulong didMask = ~((1UL << 20) - 1);
        Assert.Equal(4, tlb.InvalidateTag(Tag(1, 7))); // PASID-selective (exact tag)
        Assert.Equal(4, tlb.InvalidateTag(Tag(1, 0), didMask)); // domain-selective: what is left of DID 1
        Assert.Equal(4, tlb.Count);
        Assert.True(tlb.TryLookup(Tag(2, 7), new Iova(0x3000), out _));
        Assert.Equal(8, tlb.EntriesInvalidated);
        Assert.Equal(2, tlb.Invalidations);
        Assert.Equal(4, tlb.InvalidateAll());
        Assert.Equal(0, tlb.Count);
    }

    [Fact]
    public void Range_invalidation_removes_overlapping_pages_of_every_size()
    {
        var tlb = new Iotlb(2048, [12, 21]);
        for (ulong page = 0; page < 600; page++)
        {
            tlb.Insert(Entry(3, page << 12));
            tlb.Insert(Entry(4, page << 12));
        }

        tlb.Insert(Entry(3, 0x40_0000, shift: 21));

        // Small range, exact tag: probing. [0x10_0800, 0x10_2800) overlaps pages 0x100, 0x101, 0x102.
        Assert.Equal(3, tlb.InvalidateRange(3, ulong.MaxValue, new Iova(0x10_0800), 0x2000));
        Assert.False(tlb.TryLookup(3, new Iova(0x10_1000), out _));
        Assert.True(tlb.TryLookup(3, new Iova(0x10_3000), out _));
        Assert.True(tlb.TryLookup(4, new Iova(0x10_1000), out _));

        // A range touching one byte of the 2 MiB entry drops it whole.
        Assert.Equal(1, tlb.InvalidateRange(3, ulong.MaxValue, new Iova(0x5F_F000), 0x1000));
        Assert.False(tlb.TryLookup(3, new Iova(0x40_0000), out _));

        // Large range: sweep. Pages 0..0x1FF of tag 3 minus the three already gone.
        Assert.Equal(509, tlb.InvalidateRange(3, ulong.MaxValue, Iova.Zero, 0x20_0000));
        Assert.Equal(600 + 88, tlb.Count);

        // Masked range: both tags, the rest of the pages.
        Assert.Equal(88 + 88, tlb.InvalidateRange(0, 0, new Iova(0x20_0000), ulong.MaxValue));
        Assert.Equal(512, tlb.Count);
        Assert.Equal(0, tlb.InvalidateRange(4, ulong.MaxValue, new Iova(0x1000), 0));
    }

    [Fact]
    public void A_full_iotlb_drops_everything_before_inserting()
    {
        var tlb = new Iotlb(4, [12]);
        for (ulong page = 0; page < 4; page++)
        {
            tlb.Insert(Entry(1, page << 12));
        }

        Assert.Equal(4, tlb.Count);
        tlb.Insert(Entry(1, 0)); // replacing does not need room
        Assert.Equal(0, tlb.CapacityFlushes);
        tlb.Insert(Entry(1, 9 << 12));
        Assert.Equal(1, tlb.Count);
        Assert.Equal(1, tlb.CapacityFlushes);
        Assert.True(tlb.TryLookup(1, new Iova(0x9000), out _));
    }

    [Fact]
    public void Random_operations_agree_with_a_dictionary_model()
    {
        // Small table, clustered keys: exercises probing chains, wrap-around and backward-shift deletion.
        var tlb = new Iotlb(200, [12, 21]);
        var model = new Dictionary<(ulong Tag, ulong Page, int Shift), ulong>();
        var random = new Random(99);
        for (int step = 0; step < 20000; step++)
        {
            ulong tag = (ulong)random.Next(4);
            int shift = random.Next(5) == 0 ? 21 : 12;
            ulong page = (ulong)random.Next(64);
            switch (random.Next(10))
            {
                case < 5:
                    if (model.Count >= 200 && !model.ContainsKey((tag, page, shift)))
                    {
                        model.Clear();
                    }

                    ulong pa = (ulong)random.Next(1 << 20) << shift;
                    tlb.Insert(Entry(tag, page << shift, shift, pa));
                    model[(tag, page, shift)] = pa;
                    break;
                case < 8:
                    ulong start = (ulong)random.Next(64) << 12;
                    ulong size = (ulong)random.Next(1, 32) << 12;
                    tlb.InvalidateRange(tag, ulong.MaxValue, new Iova(start), size);
                    foreach (var key in model.Keys.Where(k => k.Tag == tag && (k.Page << k.Shift) < start + size && ((k.Page + 1) << k.Shift) > start).ToArray())
                    {
                        model.Remove(key);
                    }

                    break;
                case 8:
                    tlb.InvalidateTag(tag);
                    foreach (var key in model.Keys.Where(k => k.Tag == tag).ToArray())
                    {
                        model.Remove(key);
                    }

                    break;
                default:
                    ulong iova = ((ulong)random.Next(64) << 12) | 0x10;
                    bool found = tlb.TryLookup(tag, new Iova(iova), out IotlbEntry e);
                    bool expected = model.TryGetValue((tag, iova >> 12, 12), out ulong pa4)
                        | model.TryGetValue((tag, iova >> 21, 21), out ulong pa2);
                    Assert.Equal(expected, found);
                    if (found)
                    {
                        Assert.Equal(model.ContainsKey((tag, iova >> 12, 12)) ? pa4 : pa2, e.Translation.OutputBase.Value);
                    }

                    break;
            }

            Assert.Equal(model.Count, tlb.Count);
        }

        foreach (var ((tag, page, shift), pa) in model)
        {
            Assert.True(tlb.TryLookup(tag, new Iova(page << shift), out IotlbEntry e));
            if (e.Translation.PageShift == shift)
            {
                Assert.Equal(pa, e.Translation.OutputBase.Value);
            }
        }
    }
}
