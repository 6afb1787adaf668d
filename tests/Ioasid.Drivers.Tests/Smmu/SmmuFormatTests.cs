using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>Bit-exact encodings of STEs, CDs, descriptors, commands and events, against values worked out by hand from drivers.md §3.</summary>
public class SmmuFormatTests
{
    [Fact]
    public void Abort_and_bypass_stes_encode_v_and_config_in_qword0()
    {
        Assert.Equal(0x1UL, StreamTable.Abort().Qw0);                                  // V=1, Config=000
        var bypass = new StreamTableEntry { Valid = true, Config = SteConfig.Bypass, Shcfg = 1 };
        Assert.Equal(0x9UL, bypass.Qw0);                                               // V=1 | 0b100 << 1
        Assert.Equal(1UL << 44, bypass.Qw1);                                           // SHCFG=1 at [45:44]
    }

    [Fact]
    public void Cd_table_ste_places_s1_fields_where_the_spec_says()
    {
        var ste = new StreamTableEntry
        {
            Valid = true,
            Config = SteConfig.S1Translate,
            S1Fmt = CdTableFormat.TwoLevel64K,
            S1ContextPtr = new PhysAddr(0x1234_5000),
            S1CdMax = 20,
            S1Dss = S1Dss.Substream0,
            S1Cir = 1,
            S1Cor = 1,
            S1Csh = 3,
            S1StallDisable = true,
        };

        // qw0: V 1 | Config 0b101<<1 = 0xA | S1Fmt 2<<4 = 0x20 | ptr 0x12345000 | S1CDMax 20<<59
        Assert.Equal(0x1UL | 0xA | 0x20 | 0x1234_5000UL | (20UL << 59), ste.Qw0);
        // qw1: S1DSS 2 | CIR 1<<2 | COR 1<<4 | CSH 3<<6 | S1STALLD 1<<27
        Assert.Equal(0x2UL | 0x4 | 0x10 | 0xC0 | (1UL << 27), ste.Qw1);
        Assert.Equal(new PhysAddr(0x1234_5000), ste.S1ContextPtr);
        Assert.Equal(20, ste.S1CdMax);
    }

    [Fact]
    public void Stage2_ste_places_vtcr_fields_and_ttb()
    {
        var ste = new StreamTableEntry
        {
            Valid = true,
            Config = SteConfig.S2Translate,
            S2Vmid = 0x42,
            S2T0Sz = 16,
            S2Sl0 = 2,
            S2Ir0 = 1,
            S2Or0 = 1,
            S2Sh0 = 3,
            S2Tg = 1,
            S2Ps = 5,
            S2Aa64 = true,
            S2Ptw = true,
            S2Record = true,
            S2Ttb = new PhysAddr(0xABCD_E000),
        };

        Assert.Equal(0x1UL | (0b110UL << 1), ste.Qw0);
        ulong qw2 = 0x42UL | (16UL << 32) | (2UL << 38) | (1UL << 40) | (1UL << 42) | (3UL << 44) | (1UL << 46) | (5UL << 48)
            | (1UL << 51) | (1UL << 54) | (1UL << 58);
        Assert.Equal(qw2, ste.Qw2);
        Assert.Equal(0xABCD_E000UL, ste.Qw3);
        Assert.Equal(0, StreamTableEntry.Stage2StartLevel(TranslationGranule.Size4K, 2));
        Assert.Equal(1, StreamTableEntry.Stage2StartLevel(TranslationGranule.Size64K, 2));
        Assert.Equal(3, StreamTableEntry.Stage2StartLevel(TranslationGranule.Size16K, 0));
    }

    [Fact]
    public void Linux_s1_cd_for_a_48_bit_4k_domain_matches_the_hand_encoding()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        ContextDescriptor cd = domain.MakeCd();

        // T0SZ 16 | TG0 0 | IR0 1<<8 | OR0 1<<10 | SH0 3<<12 | EPD1 1<<30 | V 1<<31 | IPS 5<<32 | AA64 1<<41 | R 1<<45 | A 1<<46 | ASET 1<<47 | ASID<<48
        ulong qw0 = 16UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 30) | (1UL << 31) | (5UL << 32) | (1UL << 41)
            | (1UL << 45) | (1UL << 46) | (1UL << 47) | ((ulong)domain.Asid << 48);
        Assert.Equal(qw0, cd.Qw0);
        Assert.Equal(domain.Table.Root.Value, cd.Qw1);
        Assert.Equal(0x04FF44UL, cd.Qw3);
        Assert.Equal(1, domain.Asid); // ASIDs start at 1
    }

    [Fact]
    public void Leaf_descriptors_follow_io_pgtable_arm()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        var s1 = rig.AllocS1(dev).Table;
        var s2 = rig.AllocS2(dev).Table;

        // S1 page, RW, cacheable: type 0b11 | AttrIndx 1<<2 | AP[1] 1<<6 | SH 3<<8 | AF 1<<10 | nG 1<<11
        Assert.Equal(0x3UL | 0x4 | 0x40 | 0x300 | 0x400 | 0x800, s1.LeafAttributes(SmmuRig.Rw, 3));
        // S1 block, read-only, non-cacheable, noexec: 0b01 | AP[1] | AP[2] 1<<7 | SH 2<<8 | AF | nG | PXN 1<<53 | UXN 1<<54
        Assert.Equal(0x1UL | 0x40 | 0x80 | 0x200 | 0x400 | 0x800 | (1UL << 53) | (1UL << 54), s1.LeafAttributes(IommuProt.Read | IommuProt.NoExec, 2));
        // S2 page, write-only, cacheable: 0b11 | MemAttr 0xF<<2 | S2AP write 1<<7 | SH 3<<8 | AF
        Assert.Equal(0x3UL | 0x3C | 0x80 | 0x300 | 0x400, s2.LeafAttributes(IommuProt.Write | IommuProt.Cache, 3));
        Assert.Equal(0x8000_1003UL, VmsaDescriptor.EncodeTable(new PhysAddr(0x8000_1000)));
    }

    [Fact]
    public void Commands_encode_opcode_ids_and_range_fields()
    {
        Assert.Equal(new SmmuCommand(0x03 | (0x123UL << 32), 1), SmmuCommand.CfgiSte(0x123));
        Assert.Equal(new SmmuCommand(0x05 | (7UL << 12) | (0x10UL << 32), 1), SmmuCommand.CfgiCd(0x10, 7));
        Assert.Equal(new SmmuCommand(0x04, 31), SmmuCommand.CfgiAll());
        Assert.Equal(new SmmuCommand(0x11 | (3UL << 32) | (5UL << 48), 0), SmmuCommand.TlbiNhAsid(3, 5));

        // NH_VA: VMID 0, ASID 9, 0x40000, leaf, TG 4K (1), NUM 3, SCALE 2, TTL 3
        var va = SmmuCommand.TlbiNhVa(0, 9, 0x40000, leaf: true, tg: 1, num: 3, scale: 2, ttl: 3);
        Assert.Equal(0x12UL | (3UL << 12) | (2UL << 20) | (9UL << 48), va.Qw0);
        Assert.Equal(0x40000UL | 1 | (3UL << 8) | (1UL << 10), va.Qw1);
        Assert.Equal((3, 2, 1UL, 3, true), (va.Num, va.Scale, va.Tg, va.Ttl, va.Leaf));

        var ipa = SmmuCommand.TlbiS2Ipa(7, 0x1_0000_0000, leaf: false);
        Assert.Equal(0x2AUL | (7UL << 32), ipa.Qw0);
        Assert.Equal(0x1_0000_0000UL, ipa.Address);

        var sync = SmmuCommand.CmdSync(new PhysAddr(0x5000), 0xDEAD);
        Assert.Equal(0x46UL | (1UL << 12) | (0xDEADUL << 32), sync.Qw0);
        Assert.Equal(0x5000UL, sync.Qw1);
        Assert.Equal(new SmmuCommand(0x40 | (1UL << 11) | (4UL << 12) | (2UL << 32), 0x3000 | 12), SmmuCommand.AtcInv(2, 4, 0x3000, 12));
        Assert.Equal(0x30UL, SmmuCommand.TlbiNsnhAll().Qw0);
        Assert.Equal(0x28UL | (4UL << 32), SmmuCommand.TlbiS12Vmall(4).Qw0);
    }

    [Fact]
    public void Event_records_encode_type_ids_flags_and_addresses()
    {
        var evt = new SmmuEvent(Rid.Create(1, 0, 0), new Pasid(5), new Iova(0xdead_b000), DmaAccess.Write, FaultReason.Permission,
            SmmuEventType.FPermission, 0x100, Stage2: true, SmmuEventClass.InputAddress, Address: 0x4_5000);
        Span<ulong> q = stackalloc ulong[4];
        evt.Encode(q);
        Assert.Equal(0x13UL | (1UL << 11) | (5UL << 12) | (0x100UL << 32), q[0]);
        Assert.Equal((1UL << 39) | (2UL << 40), q[1]); // a write: RnW = 0; S2; CLASS = IN
        Assert.Equal(0xdead_b000UL, q[2]);
        Assert.Equal(0x4_5000UL, q[3]);

        var read = evt with { Pasid = null, Access = DmaAccess.Read, Stage2 = false, Type = SmmuEventType.CBadSte, Address = 0 };
        read.Encode(q);
        Assert.Equal(0x04UL | (0x100UL << 32), q[0]);
        Assert.Equal((1UL << 35) | (2UL << 40), q[1]);
    }

    [Fact]
    public void L1_descriptors_and_granule_tables_match_the_spec()
    {
        Assert.Equal(0x8_0000UL | 9, TableDescriptors.EncodeStd(new PhysAddr(0x8_0000), 9));
        Assert.Equal(0x9_0000UL | 1, TableDescriptors.EncodeL1Cd(new PhysAddr(0x9_0000)));
        // Start levels: 4K 22-30 -> 2, 31-39 -> 1, 40-48 -> 0; 16K 26-36 -> 2, 37-47 -> 1, 48 -> 0; 64K 30-42 -> 2, 43-52 -> 1.
        Assert.Equal([2, 2, 1, 1, 0, 0], new[] { 22, 30, 31, 39, 40, 48 }.Select(b => TranslationGranule.Size4K.StartLevel(b)));
        Assert.Equal([2, 2, 1, 1, 0], new[] { 26, 36, 37, 47, 48 }.Select(b => TranslationGranule.Size16K.StartLevel(b)));
        Assert.Equal([2, 2, 1, 1], new[] { 30, 42, 43, 52 }.Select(b => TranslationGranule.Size64K.StartLevel(b)));
        Assert.Equal([39, 30, 21, 12], Enumerable.Range(0, 4).Select(l => TranslationGranule.Size4K.LevelShift(l)));
        Assert.Equal([47, 36, 25, 14], Enumerable.Range(0, 4).Select(l => TranslationGranule.Size16K.LevelShift(l)));
        Assert.Equal([42, 29, 16], Enumerable.Range(1, 3).Select(l => TranslationGranule.Size64K.LevelShift(l)));
    }

    [Fact]
    public void Hw_info_is_the_40_byte_smmuv3_struct_with_raw_idrs()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1);
        uint type = 0;
        byte[] info = dev.Ops.HwInfo!(dev, ref type);
        Assert.Equal(2u, type);
        Assert.Equal(40, info.Length);
        Assert.Equal(rig.Hardware.Id.Idr0, BitConverter.ToUInt32(info, 8));
        Assert.Equal(rig.Hardware.Id.Idr5, BitConverter.ToUInt32(info, 28));
        Assert.Equal(2u, BitConverter.ToUInt32(info, 36)); // AIDR: SMMUv3.2
        uint bad = 1;
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => dev.Ops.HwInfo!(dev, ref bad)).Errno);
    }
}
