using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;
using D = Ioasid.Drivers.Smmu.VmsaDescriptor;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>
/// SMMUv3 dirty tracking through HTTU bit for bit (drivers.md §1.3 iommu_dirty_ops, §3.1 IDR0.HTTU, §3.5 CD.HA/HD,
/// §3.6 DBM and AP[2]): stage-1 DIRTY_TRACKING domains write DBM leaves and HA/HD CDs, the hardware turns a
/// writable-clean leaf writable-dirty on a write and sets AF under HA, the TLB never caches a clean leaf as writable,
/// and read_and_clear_dirty makes dirty leaves clean again.
/// </summary>
public sealed class SmmuDirtyTrackingTests
{
    private const uint Dirty = 2; // IOMMU_HWPT_ALLOC_DIRTY_TRACKING
    private const ulong Iova = 0x40_0000;
    private const ulong Pa = 0x100_0000;
    private const ulong K4 = 0x1000;

    // A 4 KiB stage-1 leaf as the driver writes it for read/write/cache: page 0b11 | AttrIndx 1 (0x4) | AP[1] (0x40)
    // | SH inner (0x300) | AF (0x400) | nG (0x800); a dirty-tracking domain adds DBM (bit 51); AP[2] is bit 7.
    private const ulong PageRw = 0xF47;
    private const ulong Dbm = 1UL << 51;
    private const ulong ApReadOnly = 0x80;

    private static SmmuRig HttuRig(uint httu = 2, bool coherent = true) => new(new IdRegisters { Httu = httu, Coherent = coherent });

    private static SmmuPagingDomain AllocDirty(SmmuRig rig, IommuDevice device) => (SmmuPagingDomain)rig.Core.AllocPagingDomain(device, Dirty, default);

    private static ulong Descriptor(SmmuRig rig, SmmuPagingDomain domain, ulong iova, int level = 3)
    {
        Span<ulong> walk = stackalloc ulong[4];
        int n = domain.Table.ReadWalk(new Iova(iova), walk);
        Assert.Equal(level - domain.Table.StartLevel + 1, n);
        return walk[n - 1];
    }

    private static Errno ReadAndClear(SmmuPagingDomain domain, ulong iova, ulong size, bool noClear, out DirtyBitmap bitmap)
    {
        bitmap = new DirtyBitmap(new Iova(iova), K4, size / K4);
        Errno errno = domain.Ops.ReadAndClearDirty!(domain, new Iova(iova), size, noClear, bitmap);
        bitmap.Gather.Sync(domain); // what iommufd does after a clearing read
        return errno;
    }

    [Fact]
    public void Httu_is_in_idr0_and_only_access_plus_dirty_on_a_coherent_smmu_gives_the_capability()
    {
        Assert.Equal(0x80u, HttuRig().Hardware.Id.Idr0 & 0xC0); // IDR0[7:6] = 2
        Assert.Equal(0x40u, HttuRig(1).Hardware.Id.Idr0 & 0xC0);
        Assert.Equal(0u, new SmmuRig().Hardware.Id.Idr0 & 0xC0);
        Assert.Equal(2u, HttuRig().Driver.Features.Httu); // decoded from the register at probe

        foreach (var (rig, expected) in new[] { (HttuRig(), true), (HttuRig(1), false), (HttuRig(2, coherent: false), false), (new SmmuRig(), false) })
        {
            var dev = rig.AddDevice(1);
            Assert.Equal(expected, dev.Ops.Capable!(dev, IommuCapability.DirtyTracking));
            if (expected)
            {
                Assert.True(AllocDirty(rig, dev).HasDirtyOps);
            }
            else
            {
                Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => AllocDirty(rig, dev)).Errno);
            }
        }
    }

    [Fact]
    public void Dirty_tracking_is_stage_1_only()
    {
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var s2Only = new SmmuRig(new IdRegisters { Httu = 2, Stage1 = false });

        Assert.Equal(SmmuStage.Stage1, AllocDirty(rig, dev).Stage);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => rig.Core.AllocPagingDomain(dev, Dirty | 1, default)).Errno); // + NEST_PARENT
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => AllocDirty(s2Only, s2Only.AddDevice(1))).Errno);
        Assert.False(rig.AllocS1(dev).HasDirtyOps);
        Assert.False(rig.AllocS1(dev).Table.HardwareDirty);
    }

    [Fact]
    public void A_dirty_domain_writes_dbm_leaves_writable_dirty_and_ha_hd_into_its_cd()
    {
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var plain = rig.AllocS1(dev);
        var domain = AllocDirty(rig, dev);
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, K4);
        rig.Map(domain, Iova + K4, Pa + K4, K4, IommuProt.Read | IommuProt.Cache);
        rig.Map(plain, Iova, Pa, K4);

        Assert.Equal(Pa | Dbm | PageRw, Descriptor(rig, domain, Iova)); // writable-dirty: DBM = 1, AP[2] = 0 (as io-pgtable-arm)
        Assert.Equal(Pa + K4 | PageRw | ApReadOnly, Descriptor(rig, domain, Iova + K4)); // read-only: AP[2] = 1, no DBM
        Assert.Equal(Pa | PageRw, Descriptor(rig, plain, Iova));

        ContextDescriptor cd = rig.Driver.MasterOf(dev).CdTable!.Read(0);
        Assert.Equal(3UL, (cd.Qw0 >> 42) & 3); // HD bit 42, HA bit 43
        ulong asid = 0xFFFFUL << 48;
        Assert.Equal((plain.MakeCd().Qw0 & ~asid) | (3UL << 42), cd.Qw0 & ~asid);
        Assert.Equal(domain.MakeCd().Qw0, cd.Qw0);
        Assert.Equal(0UL, (plain.MakeCd().Qw0 >> 42) & 3);
    }

    [Fact]
    public void A_write_makes_a_writable_clean_leaf_dirty_in_memory_and_a_cached_read_never_lets_it_skip_that()
    {
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var domain = AllocDirty(rig, dev);
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, 2 * K4);
        Assert.True(rig.Translate(dev, Iova, DmaAccess.Write).IsSuccess); // cached writable

        Assert.Equal(Errno.None, ReadAndClear(domain, Iova, 2 * K4, noClear: false, out DirtyBitmap first));
        Assert.Equal(0b11UL, first.Bits[0]); // both created writable-dirty
        Assert.Equal(Pa | Dbm | PageRw | ApReadOnly, Descriptor(rig, domain, Iova)); // writable-clean

        long walks = rig.Hardware.Walks;
        Assert.True(rig.Translate(dev, Iova, DmaAccess.Read).IsSuccess); // the flush dropped the writable entry
        Assert.True(rig.Translate(dev, Iova + 8, DmaAccess.Read).IsSuccess);
        Assert.Equal(walks + 1, rig.Hardware.Walks);
        Assert.Equal(Pa | Dbm | PageRw | ApReadOnly, Descriptor(rig, domain, Iova)); // reads change nothing

        Assert.True(rig.Translate(dev, Iova + 8, DmaAccess.Write).IsSuccess); // cached read-only: walks again
        Assert.Equal(walks + 2, rig.Hardware.Walks);
        Assert.Equal(Pa | Dbm | PageRw, Descriptor(rig, domain, Iova)); // AP[2] cleared: writable-dirty
        Assert.True(rig.Translate(dev, Iova + 16, DmaAccess.Write).IsSuccess);
        Assert.Equal(walks + 2, rig.Hardware.Walks); // now cached writable

        Assert.Equal(Errno.None, ReadAndClear(domain, Iova, 2 * K4, noClear: true, out DirtyBitmap peek));
        Assert.Equal(0b01UL, peek.Bits[0]);
        Assert.Equal(Pa | Dbm | PageRw, Descriptor(rig, domain, Iova)); // NO_CLEAR left it dirty
        Assert.Equal(Pa + K4 | Dbm | PageRw | ApReadOnly, Descriptor(rig, domain, Iova + K4));
    }

    [Fact]
    public void A_read_only_leaf_without_dbm_still_faults_a_write()
    {
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var domain = AllocDirty(rig, dev);
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, K4, IommuProt.Read | IommuProt.Cache);

        Assert.Equal(FaultReason.Permission, rig.Translate(dev, Iova, DmaAccess.Write).Fault);
        Assert.Equal(SmmuEventType.FPermission, rig.LastEvent().Type);
        Assert.Equal(Pa | PageRw | ApReadOnly, Descriptor(rig, domain, Iova));
        Assert.Equal(Errno.None, ReadAndClear(domain, Iova, K4, noClear: false, out DirtyBitmap bitmap));
        Assert.Equal(0UL, bitmap.Bits[0]);
    }

    [Fact]
    public void Ha_sets_the_access_flag_where_a_cd_without_it_faults_f_access()
    {
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var other = rig.AddDevice(2);
        var domain = AllocDirty(rig, dev);
        var plain = rig.AllocS1(other);
        rig.Attach(dev, domain);
        rig.Attach(other, plain);
        rig.Map(domain, Iova, Pa, K4);
        rig.Map(plain, Iova, Pa, K4);
        ClearAccessFlag(rig, domain);
        ClearAccessFlag(rig, plain);

        Assert.Equal(FaultReason.Translation, rig.Translate(other, Iova, DmaAccess.Read).Fault);
        Assert.Equal(SmmuEventType.FAccess, rig.LastEvent().Type);
        Assert.True(rig.Translate(dev, Iova, DmaAccess.Read).IsSuccess);
        Assert.Equal(Pa | Dbm | PageRw, Descriptor(rig, domain, Iova)); // AF set back by the hardware

        static void ClearAccessFlag(SmmuRig rig, SmmuPagingDomain domain)
        {
            ulong leaf = Descriptor(rig, domain, Iova);
            Span<ulong> walk = stackalloc ulong[4];
            int n = domain.Table.ReadWalk(new Iova(Iova), walk);
            ulong table = D.Address(walk[n - 2], domain.Table.Granule);
            rig.Memory.WriteU64(new PhysAddr(table + (((Iova >> 12) & 511) * 8)), leaf & ~D.AccessFlag);
            rig.Driver.InvalidateAll(domain);
        }
    }

    [Theory]
    [InlineData(0u, true, false)]
    [InlineData(0u, false, true)]
    [InlineData(1u, false, true)]
    public void Ha_or_hd_without_the_httu_for_it_is_c_bad_cd(uint httu, bool ha, bool hd)
    {
        var rig = HttuRig(httu);
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Map(domain, Iova, Pa, K4);
        Assert.True(rig.Translate(dev, Iova, DmaAccess.Read).IsSuccess);
        var master = rig.Driver.MasterOf(dev);
        ContextDescriptor cd = domain.MakeCd();
        cd.Ha = ha;
        cd.Hd = hd;
        master.CdTable!.Write(0, cd);
        rig.Driver.Commands.Add(SmmuCommand.CfgiCd(master.StreamId, 0));
        rig.Driver.Commands.Sync();

        Assert.False(rig.Translate(dev, Iova, DmaAccess.Read).IsSuccess);
        Assert.Equal(SmmuEventType.CBadCd, rig.LastEvent().Type);
    }

    [Fact]
    public void A_dirty_block_is_reported_as_every_page_and_cleared_whole()
    {
        const ulong m2 = 2UL << 20;
        var rig = HttuRig();
        var dev = rig.AddDevice(1);
        var domain = AllocDirty(rig, dev);
        rig.Attach(dev, domain);
        rig.Map(domain, m2, 2 * m2, m2);
        Assert.Equal(Errno.None, ReadAndClear(domain, m2, m2, noClear: false, out _));
        const ulong blockRw = PageRw & ~0x2UL; // block type 0b01
        Assert.Equal((2 * m2) | Dbm | blockRw | ApReadOnly, Descriptor(rig, domain, m2, level: 2));

        Assert.True(rig.Translate(dev, m2 + 0x3_4000, DmaAccess.Write).IsSuccess);
        Assert.Equal((2 * m2) | Dbm | blockRw, Descriptor(rig, domain, m2, level: 2));

        var window = new DirtyBitmap(new Iova(m2 + (16 * K4)), K4, 128);
        Assert.Equal(Errno.None, domain.Ops.ReadAndClearDirty!(domain, window.BaseIova, 128 * K4, false, window));
        Assert.Equal([ulong.MaxValue, ulong.MaxValue], window.Bits);
        Assert.Equal(m2, window.Gather.Start); // the whole block is to be invalidated
        Assert.Equal((2 * m2) - 1, window.Gather.End);
        window.Gather.Sync(domain);
        Assert.Equal((2 * m2) | Dbm | blockRw | ApReadOnly, Descriptor(rig, domain, m2, level: 2));
        Assert.Equal(Errno.EINVAL, domain.Ops.ReadAndClearDirty!(domain, new Iova(1UL << 48), K4, false, new DirtyBitmap(new Iova(1UL << 48), K4, 1)));
    }
}
