using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>
/// VT-d second-stage dirty tracking bit for bit (drivers.md §1.3 iommu_dirty_ops, §2.2 ECAP.SSADS, §2.5 SSADE, §2.6
/// A/D): the capability, SSADE in the PASID entries the driver writes, the A and D bits the hardware sets in memory,
/// the IOTLB never letting a write skip D, and read_and_clear_dirty on the leaves.
/// </summary>
public sealed class VtdDirtyTrackingTests
{
    private const uint Dirty = VtdIommuDriver.AllocDirtyTracking;
    private const ulong Iova = 0x10000;
    private const ulong Pa = 0x20_0000;
    private static readonly VtdCapabilities Ssads = new() { SecondStageAccessDirty = true };

    // The second-stage entries on the walk of `iova` (levels 4..1 of a 4-level table), read from memory.
    private static ulong[] Path(VtdRig rig, VtdPagingDomain domain, ulong iova)
    {
        var entries = new ulong[domain.Levels];
        ulong table = domain.Root.Value;
        for (int level = domain.Levels, i = 0; level >= 1; level--, i++)
        {
            entries[i] = rig.ReadU64(table + (((iova >> (12 + (9 * (level - 1)))) & 511) * 8));
            table = entries[i] & SlPte.AddressMask;
        }

        return entries;
    }

    private static ulong Leaf(VtdRig rig, VtdPagingDomain domain, ulong iova) => Path(rig, domain, iova)[^1];

    private static TranslationResult Dma(IommuDevice device, ulong iova, DmaAccess access, Pasid? pasid = null) =>
        VtdRig.Translate(device, iova, access, pasid);

    [Fact]
    public void Ssads_is_in_ecap_and_the_capability_only_on_a_scalable_unit_configured_with_it()
    {
        var with = new VtdRig(Ssads);
        var without = new VtdRig();
        var legacy = new VtdRig(Ssads with { ScalableMode = false });

        Assert.Equal(1UL << 45, with.Unit.Ecap & (1UL << 45));
        Assert.Equal(with.Hardware.ReadRegister64(VtdRegisters.ExtendedCapability), without.Unit.Ecap | (1UL << 45));
        Assert.True(VtdPagingDomain.SupportsDirtyTracking(with.Unit));
        Assert.False(VtdPagingDomain.SupportsDirtyTracking(without.Unit));
        Assert.False(VtdPagingDomain.SupportsDirtyTracking(legacy.Unit));
        var dev = with.AddDevice(1);
        Assert.True(dev.Ops.Capable!(dev, IommuCapability.DirtyTracking));
        var plainDev = without.AddDevice(1);
        Assert.False(plainDev.Ops.Capable!(plainDev, IommuCapability.DirtyTracking));
        uint type = 0;
        var hwInfo = VtdHwInfo.Parse(dev.Ops.HwInfo!(dev, ref type));
        Assert.Equal(with.Unit.Ecap, hwInfo.Ecap);
    }

    [Fact]
    public void Dirty_tracking_allocation_needs_scalable_mode_and_ssads_and_always_gives_a_second_stage()
    {
        var without = new VtdRig();
        var legacy = new VtdRig(Ssads with { ScalableMode = false });
        var with = new VtdRig(Ssads);
        with.Driver.FirstStageByDefault = true;

        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => without.AllocDomain(without.AddDevice(1), Dirty)).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => legacy.AllocDomain(legacy.AddDevice(1), Dirty)).Errno);
        var dev = with.AddDevice(1);
        var domain = with.AllocDomain(dev, Dirty);
        Assert.True(domain.HasDirtyOps);
        Assert.Equal(VtdPagingStage.SecondStage, domain.Stage); // first stage by default, but dirty tracking is second-stage only
        Assert.False(domain.IsDirtyTracking);
        Assert.False(with.AllocDomain(dev).HasDirtyOps);
        Assert.Equal(VtdPagingStage.FirstStage, with.AllocDomain(dev).Stage);
        Assert.True(with.AllocDomain(dev, Dirty | VtdIommuDriver.AllocNestParent).HasDirtyOps);
    }

    [Fact]
    public void Set_dirty_tracking_flips_ssade_in_every_slot_and_the_hardware_sees_it_at_once()
    {
        var rig = new VtdRig(Ssads);
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev, rig.AllocDomain(dev, Dirty));
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), domain));
        rig.Map(domain, Iova, Pa, VtdRig.K4);
        rig.Map(domain, Iova + VtdRig.K4, Pa + VtdRig.K4, VtdRig.K4);
        var data = VtdIommuDriver.DataOf(dev);
        ulong root = domain.Root.Value;

        // SSPTPTR | SSADE? | PGTT 010b (0x80) | AW 2 = 4 levels (0x8) | P.
        Assert.Equal(root | 0x89, data.ReadPasidEntry(0).Q0);
        Assert.Equal(root | 0x89, data.ReadPasidEntry(5).Q0);
        Assert.True(Dma(dev, Iova, DmaAccess.Write).IsSuccess); // caches the entry and a writable translation
        Assert.Equal(Pa | 0x3, Leaf(rig, domain, Iova)); // SSADE off: the hardware writes no A/D
        long descriptors = rig.Unit.DescriptorsSubmitted;

        Assert.Equal(Errno.None, domain.Ops.SetDirtyTracking!(domain, true));

        Assert.True(domain.IsDirtyTracking);
        Assert.Equal(root | 0x289, data.ReadPasidEntry(0).Q0); // + SSADE (bit 9)
        Assert.Equal(root | 0x289, data.ReadPasidEntry(5).Q0);
        Assert.Equal(descriptors + 6, rig.Unit.DescriptorsSubmitted); // per slot: PASID cache, IOTLB DSI, wait
        Assert.True(Dma(dev, Iova, DmaAccess.Write).IsSuccess);
        Assert.Equal(Pa | 0x303, Leaf(rig, domain, Iova)); // A (bit 8) and D (bit 9): the cached state was invalidated
        Assert.True(Dma(dev, Iova + VtdRig.K4, DmaAccess.Read, new Pasid(5)).IsSuccess);
        Assert.Equal(Pa + VtdRig.K4 | 0x103, Leaf(rig, domain, Iova + VtdRig.K4)); // a read: A only
        foreach (ulong table in Path(rig, domain, Iova)[..^1])
        {
            Assert.Equal(0x103UL, table & 0x3FF); // R | W | A: every entry the walk used
        }

        Assert.Equal(Errno.None, domain.Ops.SetDirtyTracking!(domain, false));
        Assert.Equal(root | 0x89, data.ReadPasidEntry(0).Q0);
        Assert.Equal(root | 0x89, data.ReadPasidEntry(5).Q0);
        Assert.True(Dma(dev, Iova + VtdRig.K4, DmaAccess.Write).IsSuccess);
        Assert.Equal(Pa + VtdRig.K4 | 0x103, Leaf(rig, domain, Iova + VtdRig.K4)); // no D once tracking is off
    }

    [Fact]
    public void Starting_tracking_drops_an_ats_device_tlb_so_its_next_write_walks_and_sets_d()
    {
        var rig = new VtdRig(Ssads with { DeviceTlb = true });
        var dev = rig.Core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "ats", pasidBits: 8, ats: true));
        var domain = rig.AllocDomain(dev, Dirty);
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, VtdRig.K4);
        DeviceTlb deviceTlb = rig.Hardware.Ats.Find(dev.Rid)!;
        Assert.True(Dma(dev, Iova, DmaAccess.Write).IsSuccess); // tracking off: the device caches a writable translation
        Assert.Equal(1, deviceTlb.Count);
        Assert.Equal(Pa | 0x3, Leaf(rig, domain, Iova));

        Assert.Equal(Errno.None, domain.Ops.SetDirtyTracking!(domain, true));

        Assert.Equal(0, deviceTlb.Count); // the whole device TLB of the slot, after PASID cache and IOTLB
        TranslationResult write = Dma(dev, Iova, DmaAccess.Write);
        Assert.True(write.IsSuccess);
        Assert.False(write.DeviceTlbHit); // a translation request: the walk sets A and D
        Assert.Equal(Pa | 0x303, Leaf(rig, domain, Iova));
        var dirty = new DirtyBitmap(new Iova(Iova), VtdRig.K4, 1);
        Assert.Equal(Errno.None, domain.Ops.ReadAndClearDirty!(domain, new Iova(Iova), VtdRig.K4, false, dirty));
        Assert.Equal(1UL, dirty.Bits[0]);
    }

    [Fact]
    public void A_slot_installed_while_tracking_gets_ssade_and_a_read_cached_entry_does_not_let_a_write_skip_d()
    {
        var rig = new VtdRig(Ssads);
        var dev = rig.AddDevice(1);
        var domain = rig.AllocDomain(dev, Dirty);
        Assert.Equal(Errno.None, domain.Ops.SetDirtyTracking!(domain, true));
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, VtdRig.K4);
        Assert.Equal(domain.Root.Value | 0x289, VtdIommuDriver.DataOf(dev).ReadPasidEntry(0).Q0);

        long walks = rig.Hardware.Walks;
        Assert.True(Dma(dev, Iova, DmaAccess.Read).IsSuccess);
        Assert.Equal(Pa | 0x103, Leaf(rig, domain, Iova));
        Assert.True(Dma(dev, Iova + 8, DmaAccess.Read).IsSuccess); // an IOTLB hit
        Assert.Equal(walks + 1, rig.Hardware.Walks);

        Assert.True(Dma(dev, Iova + 8, DmaAccess.Write).IsSuccess); // the cached entry is read-only: walks again
        Assert.Equal(walks + 2, rig.Hardware.Walks);
        Assert.Equal(Pa | 0x303, Leaf(rig, domain, Iova));
        Assert.True(Dma(dev, Iova + 16, DmaAccess.Write).IsSuccess); // now cached writable
        Assert.Equal(walks + 2, rig.Hardware.Walks);
    }

    [Fact]
    public void Read_and_clear_reports_dirty_leaves_clears_d_only_without_no_clear_and_gathers_the_range()
    {
        var rig = new VtdRig(Ssads);
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev, rig.AllocDomain(dev, Dirty));
        rig.Map(domain, Iova, Pa, 4 * VtdRig.K4);
        var ops = domain.Ops;

        var early = new DirtyBitmap(new Iova(Iova), VtdRig.K4, 4);
        Assert.Equal(Errno.EINVAL, ops.ReadAndClearDirty!(domain, new Iova(Iova), 4 * VtdRig.K4, false, early)); // tracking off
        Assert.Equal(Errno.None, ops.ReadAndClearDirty!(domain, new Iova(Iova), 4 * VtdRig.K4, false, DirtyBitmap.ClearOnly(new Iova(Iova), VtdRig.K4)));
        Assert.Equal(Errno.None, ops.SetDirtyTracking!(domain, true));
        Assert.True(Dma(dev, Iova + (2 * VtdRig.K4), DmaAccess.Write).IsSuccess);
        Assert.True(Dma(dev, Iova, DmaAccess.Read).IsSuccess);

        var peek = new DirtyBitmap(new Iova(Iova), VtdRig.K4, 4);
        Assert.Equal(Errno.None, ops.ReadAndClearDirty!(domain, new Iova(Iova), 4 * VtdRig.K4, true, peek));
        Assert.Equal(0b0100UL, peek.Bits[0]);
        Assert.Equal(Pa + (2 * VtdRig.K4) | 0x303, Leaf(rig, domain, Iova + (2 * VtdRig.K4)));

        var read = new DirtyBitmap(new Iova(Iova), VtdRig.K4, 4);
        Assert.Equal(Errno.None, ops.ReadAndClearDirty!(domain, new Iova(Iova), 4 * VtdRig.K4, false, read));
        Assert.Equal(0b0100UL, read.Bits[0]);
        Assert.Equal(Pa + (2 * VtdRig.K4) | 0x103, Leaf(rig, domain, Iova + (2 * VtdRig.K4))); // D cleared, A kept
        Assert.Equal(Pa | 0x103, Leaf(rig, domain, Iova));
        Assert.Equal(Iova + (2 * VtdRig.K4), read.Gather.Start);
        Assert.Equal(Iova + (3 * VtdRig.K4) - 1, read.Gather.End);
    }

    [Fact]
    public void A_2M_leaf_gets_d_and_is_reported_as_all_its_pages()
    {
        var rig = new VtdRig(Ssads);
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev, rig.AllocDomain(dev, Dirty));
        rig.Map(domain, VtdRig.M2, 2 * VtdRig.M2, VtdRig.M2);
        Assert.Equal(Errno.None, domain.Ops.SetDirtyTracking!(domain, true));

        Assert.True(Dma(dev, VtdRig.M2 + 0x5000, DmaAccess.Write).IsSuccess);

        ulong leaf = Path(rig, domain, VtdRig.M2)[2];
        Assert.Equal((2 * VtdRig.M2) | 0x383, leaf); // R | W | PS | A | D
        var bitmap = new DirtyBitmap(new Iova(VtdRig.M2 + (8 * VtdRig.K4)), VtdRig.K4, 128);
        Assert.Equal(Errno.None, domain.Ops.ReadAndClearDirty!(domain, bitmap.BaseIova, 128 * VtdRig.K4, false, bitmap));
        Assert.Equal([ulong.MaxValue, ulong.MaxValue], bitmap.Bits);
        Assert.Equal((2 * VtdRig.M2) | 0x183, Path(rig, domain, VtdRig.M2)[2]);
        Assert.Equal(VtdRig.M2, bitmap.Gather.Start); // the whole leaf is invalidated
        Assert.Equal((2 * VtdRig.M2) - 1, bitmap.Gather.End);
    }

    [Fact]
    public void Ssade_on_a_unit_without_ssads_makes_the_pasid_entry_invalid_and_legacy_walks_set_nothing()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, Iova, Pa, VtdRig.K4);
        var data = VtdIommuDriver.DataOf(dev);
        PhysAddr entry = data.PasidEntryAddress(0, allocate: false);
        rig.Memory.WriteU64(entry, data.ReadPasidEntry(0).WithSecondStageAccessDirty(true).Q0);
        rig.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCachePasidGranularity, data.ReadPasidEntry(0).DomainId, 0));
        rig.Unit.Flush();

        Assert.Equal(VtdFaultReason.PasidEntryInvalid, VtdRig.Code(Dma(dev, Iova, DmaAccess.Write)));

        var legacy = new VtdRig(Ssads with { ScalableMode = false });
        var old = legacy.AddDevice(1);
        var legacyDomain = legacy.Attach(old);
        legacy.Map(legacyDomain, Iova, Pa, VtdRig.K4);
        Assert.True(Dma(old, Iova, DmaAccess.Write).IsSuccess);
        Assert.Equal(Pa | 0x3, Leaf(legacy, legacyDomain, Iova)); // legacy mode has no A/D
    }

    [Fact]
    public void A_dirty_domain_refuses_a_unit_without_ssads_and_keeps_its_state()
    {
        var rig = new VtdRig(Ssads);
        rig.AddSecondUnit();
        var dev = rig.AddDevice(1);
        var other = rig.AddDevice(0x81);
        var domain = rig.Attach(dev, rig.AllocDomain(dev, Dirty));
        var before = rig.Core.GetDomain(other);

        Assert.Equal(Errno.EINVAL, rig.Core.SetGroupDomain(other.Group, domain));

        Assert.Same(before, rig.Core.GetDomain(other));
        Assert.Single(domain.Tags.Units);
        Assert.False(other.Ops.Capable!(other, IommuCapability.DirtyTracking));
    }

    [Fact]
    public void A_nested_domain_on_a_tracking_parent_gets_ssade_and_its_writes_dirty_the_parent_leaf()
    {
        const ulong gpa = 0x10_0000;
        const ulong s1Iova = 0x7654_3000;
        var machine = new Machine(1UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = 64UL << 20;
        using var iommufd = new IommufdContext(process);
        var core = new IommuCore();
        var driver = new VtdIommuDriver(core, machine.Memory);
        var unit = driver.AddUnit("dmar0", Ssads);
        core.RegisterDriver(driver.Ops);
        var ioas = iommufd.AllocIoas();
        var dev = iommufd.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "vf", pasidBits: 8)));
        ulong va = process.Mm.Map(8 * 4096);
        ioas.Map(va, 8 * 4096, IoasMapFlags.ReadWrite | IoasMapFlags.FixedIova, new Iova(gpa));

        // The guest's first stage in pages 0–3 of the region maps s1Iova to page 4 (writable, A and D preset).
        void Entry(int page, ulong iova, int shift, ulong value) =>
            process.Mm.Write(va + ((ulong)page * 0x1000) + (((iova >> shift) & 511) * 8), BitConverter.GetBytes(value));
        Entry(0, s1Iova, 39, FlPte.Table(new PhysAddr(gpa + 0x1000)));
        Entry(1, s1Iova, 30, FlPte.Table(new PhysAddr(gpa + 0x2000)));
        Entry(2, s1Iova, 21, FlPte.Table(new PhysAddr(gpa + 0x3000)));
        Entry(3, s1Iova, 12, FlPte.Leaf(new PhysAddr(gpa + 0x4000), 1, write: true) | FlPte.Accessed | FlPte.Dirty);

        var parent = iommufd.AllocHwptPaging(dev, ioas.Id, HwptAllocFlags.NestParent | HwptAllocFlags.DirtyTracking);
        var nested = iommufd.AllocHwptNested(dev, parent.Id, HwptAllocFlags.None, VtdS1Data.DataType, new VtdS1Data(0, gpa, 48).ToBytes());
        dev.Attach(nested.Id);
        Assert.Equal(0UL, VtdIommuDriver.DataOf(dev.Device).ReadPasidEntry(0).Q0 & PasidEntry.SecondStageAccessDirtyBit);
        var read = new byte[4];
        Assert.True(unit.Hardware.Dma(new DmaRequest(dev.Device.Rid, null, new Iova(s1Iova), 4, DmaAccess.Read), read).IsSuccess);

        parent.SetDirtyTracking(true);

        var entry = VtdIommuDriver.DataOf(dev.Device).ReadPasidEntry(0);
        Assert.Equal(PasidGranularTranslationType.Nested, entry.Pgtt);
        Assert.True(entry.SecondStageAccessDirty);
        Assert.True(unit.Hardware.Dma(new DmaRequest(dev.Device.Rid, null, new Iova(s1Iova + 0x10), 4, DmaAccess.Read), read).IsSuccess);
        var none = new ulong[1];
        parent.ReadAndClearDirty(new Iova(gpa), 8 * 4096, 4096, none);
        Assert.Equal(0UL, none[0]); // the walk read the guest's tables and page 4: nothing written
        Assert.True(unit.Hardware.Dma(new DmaRequest(dev.Device.Rid, null, new Iova(s1Iova + 0x20), 4, DmaAccess.Write), Encoding.ASCII.GetBytes("dirt")).IsSuccess);
        var bits = new ulong[1];
        parent.ReadAndClearDirty(new Iova(gpa), 8 * 4096, 4096, bits);
        Assert.Equal(1UL << 4, bits[0]); // the data page, in guest-physical terms

        // The hardware's A update of a guest table entry is a write to guest memory: it dirties the table's page.
        Entry(2, s1Iova, 21, FlPte.Table(new PhysAddr(gpa + 0x3000)) & ~FlPte.Accessed);
        var inv = new VtdS1Invalidation(s1Iova, 1, 0).ToBytes();
        nested.Invalidate(VtdS1Invalidation.DataType, inv, VtdS1Invalidation.Size, 1, out _);
        Assert.True(unit.Hardware.Dma(new DmaRequest(dev.Device.Rid, null, new Iova(s1Iova), 4, DmaAccess.Read), read).IsSuccess);
        var tables = new ulong[1];
        parent.ReadAndClearDirty(new Iova(gpa), 8 * 4096, 4096, tables);
        Assert.Equal(1UL << 2, tables[0]); // page 2 holds the PD entry the walk set A in
    }
}
