using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;
using D = Ioasid.Drivers.Smmu.VmsaDescriptor;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>VMSAv8-64 walks in 4, 16 and 64 KiB granules: start levels from the input size, blocks and pages, concatenation, faults.</summary>
public class SmmuWalkTests
{
    private readonly PhysicalMemory _memory = new(1UL << 30);

    [Theory]
    [InlineData(TranslationGranule.Size4K, 48, 0)]
    [InlineData(TranslationGranule.Size4K, 39, 1)]
    [InlineData(TranslationGranule.Size4K, 32, 1)]
    [InlineData(TranslationGranule.Size4K, 30, 2)]
    [InlineData(TranslationGranule.Size16K, 48, 0)]
    [InlineData(TranslationGranule.Size16K, 47, 1)]
    [InlineData(TranslationGranule.Size16K, 36, 2)]
    [InlineData(TranslationGranule.Size64K, 48, 1)]
    [InlineData(TranslationGranule.Size64K, 42, 2)]
    [InlineData(TranslationGranule.Size64K, 32, 2)]
    public void Stage1_walk_starts_at_the_level_the_input_size_gives_and_finds_pages_and_blocks(TranslationGranule granule, int inputBits, int startLevel)
    {
        var table = new ArmLpaePageTable(_memory, granule, inputBits, 48, stage2: false);
        Assert.Equal(startLevel, table.StartLevel);
        ulong page = granule.PageSize();
        ulong block = 1UL << granule.LevelShift(2);
        ulong top = (1UL << inputBits) - block; // the last block of the input range: exercises the widest start index
        Assert.Equal(Errno.None, table.MapPages(new Iova(top), new PhysAddr(0x2000_0000 & ~(block - 1)), block, 1, SmmuRig.Rw, out _));
        Assert.Equal(Errno.None, table.MapPages(new Iova(block), new PhysAddr(0x100_0000), page, 3, IommuProt.Read, out _));

        var context = new WalkContext(table.Root, granule, inputBits, granule.StartLevel(inputBits), 48, false, false, false);
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context, block + page + 0x10, out Translation t, out int level, out _));
        Assert.Equal((0x100_0000UL + page, granule.PageShift(), 3, DmaAccess.Read), (t.OutputBase.Value, t.PageShift, level, t.Permissions));

        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context, top + 0x1234, out t, out level, out _));
        Assert.Equal((granule.LevelShift(2), 2, DmaAccess.ReadWrite), (t.PageShift, level, t.Permissions));
        Assert.Equal(0x2000_0000UL & ~(block - 1), t.OutputBase.Value);

        Assert.Equal(WalkFault.Translation, VmsaWalker.Walk(_memory, context, block + (3 * page), out _, out _, out _));
        if (inputBits < 48)
        {
            Assert.Equal(WalkFault.Translation, VmsaWalker.Walk(_memory, context, 1UL << inputBits, out _, out _, out _));
        }
    }

    [Fact]
    public void A_16k_walk_reads_the_descriptors_at_the_hand_computed_indices()
    {
        // IA 36 with 16K: start level 2 resolving bits 35:25 (11 bits), level 3 bits 24:14.
        var table = new ArmLpaePageTable(_memory, TranslationGranule.Size16K, 36, 48, stage2: false);
        const ulong iova = 0x9_8765_4000;
        Assert.Equal(Errno.None, table.MapPages(new Iova(iova), new PhysAddr(0x300_0000), 0x4000, 1, SmmuRig.Rw, out _));
        ulong l2 = _memory.ReadU64(new PhysAddr(table.Root.Value + (((iova >> 25) & 0x7FF) * 8)));
        Assert.Equal(D.TypeTable, l2 & 3);
        ulong l3 = _memory.ReadU64(new PhysAddr((l2 & D.AddressMask) + (((iova >> 14) & 0x7FF) * 8)));
        Assert.Equal(0x300_0000UL | table.LeafAttributes(SmmuRig.Rw, 3), l3);
        Assert.Equal(0UL, (l2 & D.AddressMask) & 0x3FFF); // 16 KiB tables are 16 KiB aligned
    }

    [Fact]
    public void A_64k_page_table_uses_64k_tables_with_8192_entries()
    {
        var table = new ArmLpaePageTable(_memory, TranslationGranule.Size64K, 48, 48, stage2: false);
        const ulong iova = 0x1234_5678_0000;
        Assert.Equal(Errno.None, table.MapPages(new Iova(iova), new PhysAddr(0x400_0000), 0x1_0000, 2, SmmuRig.Rw, out _));
        ulong l1 = _memory.ReadU64(new PhysAddr(table.Root.Value + (((iova >> 42) & 0x3F) * 8)));
        ulong l2 = _memory.ReadU64(new PhysAddr((l1 & D.AddressMask) + (((iova >> 29) & 0x1FFF) * 8)));
        ulong l3 = _memory.ReadU64(new PhysAddr((l2 & D.AddressMask) + (((iova >> 16) & 0x1FFF) * 8)));
        Assert.Equal(0x400_0000UL, l3 & D.AddressMask);
        Assert.Equal(0UL, (l2 & D.AddressMask) & 0xFFFF);
        Assert.True(table.IovaToPhys(new Iova(iova + 0x1_0008), out PhysAddr pa));
        Assert.Equal(0x401_0008UL, pa.Value);
    }

    [Fact]
    public void A_stage2_table_of_40_bits_in_4k_starts_at_level_1_with_two_concatenated_tables()
    {
        var table = new ArmLpaePageTable(_memory, TranslationGranule.Size4K, 40, 48, stage2: true);
        Assert.Equal((1, 10), (table.StartLevel, table.StartIndexBits));
        const ulong ipa = (1UL << 39) | 0x4000_0000;
        Assert.Equal(Errno.None, table.MapPages(new Iova(ipa), new PhysAddr(0x500_0000), 0x1000, 1, IommuProt.Write, out _));

        // The second concatenated table (index 512 of the start level) holds it.
        Assert.NotEqual(0UL, _memory.ReadU64(new PhysAddr(table.Root.Value + (((ipa >> 30) & 0x3FF) * 8))));
        var context = new WalkContext(table.Root, TranslationGranule.Size4K, 40, 1, 48, Stage2: true, false, true);
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context, ipa + 8, out Translation t, out _, out _));
        Assert.Equal((0x500_0000UL, DmaAccess.Write), (t.OutputBase.Value, t.Permissions)); // S2AP write only
    }

    [Fact]
    public void Output_and_table_addresses_beyond_the_output_size_are_address_size_faults()
    {
        var table = new ArmLpaePageTable(_memory, TranslationGranule.Size4K, 48, 48, stage2: false);
        Assert.Equal(Errno.None, table.MapPages(new Iova(0x1000), new PhysAddr(0x1_0000_0000), 0x1000, 1, SmmuRig.Rw, out _));
        var narrow = new WalkContext(table.Root, TranslationGranule.Size4K, 48, 0, 32, false, false, false);
        Assert.Equal(WalkFault.AddressSize, VmsaWalker.Walk(_memory, narrow, 0x1000, out _, out _, out ulong address));
        Assert.Equal(0x1_0000_0000UL, address);
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, narrow with { OutputBits = 36 }, 0x1000, out _, out _, out _));
    }

    [Fact]
    public void Access_flag_zero_faults_unless_affd_and_aptable_restricts_below()
    {
        var table = new ArmLpaePageTable(_memory, TranslationGranule.Size4K, 39, 48, stage2: false);
        Assert.Equal(Errno.None, table.MapPages(new Iova(0x20_0000), new PhysAddr(0x600_0000), 0x1000, 1, SmmuRig.Rw, out _));
        Span<ulong> walk = stackalloc ulong[4];
        Assert.Equal(3, table.ReadWalk(new Iova(0x20_0000), walk));
        ulong l1Address = table.Root.Value + 0; // index 0 at level 1
        ulong leafAddress = (walk[1] & D.AddressMask);
        var context = new WalkContext(table.Root, TranslationGranule.Size4K, 39, 1, 48, false, false, false);

        _memory.WriteU64(new PhysAddr(leafAddress), walk[2] & ~D.AccessFlag);
        Assert.Equal(WalkFault.Access, VmsaWalker.Walk(_memory, context, 0x20_0000, out _, out _, out _));
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context with { AccessFlagFaultDisable = true }, 0x20_0000, out _, out _, out _));

        _memory.WriteU64(new PhysAddr(leafAddress), walk[2]);
        _memory.WriteU64(new PhysAddr(l1Address), walk[0] | D.ApTableNoWrite);
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context, 0x20_0000, out Translation t, out _, out _));
        Assert.Equal(DmaAccess.Read, t.Permissions); // APTable[1] removes write below
        Assert.Equal(WalkFault.None, VmsaWalker.Walk(_memory, context with { HierarchicalDisable = true }, 0x20_0000, out t, out _, out _));
        Assert.Equal(DmaAccess.ReadWrite, t.Permissions);
    }

    [Theory]
    [InlineData(TranslationGranule.Size16K)]
    [InlineData(TranslationGranule.Size64K)]
    public void Driver_domains_in_16k_and_64k_granules_translate_end_to_end(TranslationGranule granule)
    {
        var rig = new SmmuRig(granule: granule);
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        Assert.Equal(granule.PageSizeBitmap(), domain.PageSizeBitmap);
        rig.Attach(dev, domain);
        ulong block = 1UL << granule.LevelShift(2);
        rig.Map(domain, block, block, block);                                      // one block
        rig.Map(domain, 2 * block, 0x100_0000, 4 * granule.PageSize());             // pages
        var r = rig.Translate(dev, block + 0x1230, DmaAccess.Write);
        Assert.True(r.IsSuccess);
        Assert.Equal(block + 0x1230, r.Address.Value);
        r = rig.Translate(dev, (2 * block) + granule.PageSize() + 4);
        Assert.Equal(0x100_0000 + granule.PageSize() + 4, r.Address.Value);
        Assert.Equal(FaultReason.Translation, rig.Translate(dev, (2 * block) + (4 * granule.PageSize())).Fault);
        Assert.Equal(SmmuEventType.FTranslation, rig.LastEvent().Type);
    }
}
