using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>Entry encodings bit for bit, worked out by hand from the field tables of drivers.md §2.3–§2.6, §2.10, §2.11, and read back from memory where the driver wrote them.</summary>
public class VtdEncodingTests
{
    [Fact]
    public void Root_entries_encode_present_and_table_pointers()
    {
        // legacy: CTP 63:12 | P
        Assert.Equal(new RootEntry(0x1234_5001, 0), RootEntry.Legacy(new PhysAddr(0x1234_5000)));

        // scalable: LCTP | LP in qw0, UCTP | UP in qw1
        Assert.Equal(new RootEntry(0x1000_0001, 0x2000_0001), RootEntry.Scalable(new PhysAddr(0x1000_0000), new PhysAddr(0x2000_0000)));
        Assert.True(new RootEntry(0x1000_0001, 0x2000_0001).HasReservedBits(true, 46) == false);
        Assert.True(new RootEntry(0x1000_0003, 0).HasReservedBits(false, 46)); // bit 1 is reserved
    }

    [Fact]
    public void Context_entries_encode_legacy_and_scalable_fields()
    {
        // legacy: qw0 = SLPTPTR | TT 00 | P; qw1 = AW 2 (48-bit) | DID << 8
        var legacy = ContextEntry.Translate(new PhysAddr(0xABCD_E000), 2, 0x1234);
        Assert.Equal(0xABCD_E001UL, legacy.Low);
        Assert.Equal(0x12_3402UL, legacy.High);

        // pass-through: TT = 10b → bits 3:2 = 0b10 → 0x8
        Assert.Equal(0x9UL, ContextEntry.PassThrough(2, 1).Low);

        // scalable: 128-entry directory → PDTS 0; PASIDE bit 3; P
        var small = ScalableContextEntry.Create(new PhysAddr(0x5000_0000), 128, pasidEnable: true);
        Assert.Equal(0x5000_0009UL, small.Q0);
        Assert.Equal(0UL, small.Q1);

        // 16384 entries (20-bit PASIDs) → PDTS = 14 - 7 = 7 at bits 11:9 → 0xE00
        var large = ScalableContextEntry.Create(new PhysAddr(0x5000_0000), 16384, pasidEnable: false);
        Assert.Equal(0x5000_0E01UL, large.Q0);
        Assert.Equal(16384u, large.DirectoryEntries);
    }

    [Fact]
    public void Pasid_directory_and_table_entries_encode_pgtt_aw_did_and_roots()
    {
        Assert.Equal(0x7000_1001UL, PasidDirEntry.Create(new PhysAddr(0x7000_1000)).Value);

        // second stage: SSPTPTR | PGTT 010b << 6 (0x80) | AW 2 << 2 (0x8) | P; qw1 = DID 5 | PWSNP (bit 87 = qw1 bit 23)
        var ss = PasidEntry.SecondStage(new PhysAddr(0x9000), 2, 5, pageWalkSnoop: true);
        Assert.Equal(0x9089UL, ss.Q0);
        Assert.Equal(0x80_0005UL, ss.Q1);
        Assert.Equal(0UL, ss.Q2);

        // first stage: PGTT 001b (0x40) | P in qw0; FSPTPTR | FSPM 0 in qw2
        var fs = PasidEntry.FirstStage(new PhysAddr(0xA000), fiveLevel: false, 9);
        Assert.Equal(0x41UL, fs.Q0);
        Assert.Equal(9UL, fs.Q1);
        Assert.Equal(0xA000UL, fs.Q2);

        // nested: SSPTPTR | PGTT 011b (0xC0) | AW 2 (0x8) | P; qw2: FSPTPTR | FSPM 01b (5-level, 0x4) | SRE (0x1) | WPE (0x10)
        var nested = PasidEntry.Nested(new PhysAddr(0xB000), true, new PhysAddr(0xC000), 2, 3, supervisor: true, writeProtect: true, extendedAccessed: false);
        Assert.Equal(0xC0C9UL, nested.Q0);
        Assert.Equal(0xB015UL, nested.Q2);

        // pass-through: PGTT 100b → 0x100
        Assert.Equal(0x109UL, PasidEntry.PassThrough(2, 1).Q0);
    }

    [Fact]
    public void Second_and_first_stage_entries_encode_permissions_and_page_size()
    {
        Assert.Equal(0x4000_0083UL, SlPte.Leaf(new PhysAddr(0x4000_0000), 2, read: true, write: true));
        Assert.Equal(0x1001UL, SlPte.Leaf(new PhysAddr(0x1000), 1, read: true, write: false));
        Assert.Equal(0x2003UL, SlPte.Table(new PhysAddr(0x2000)));

        // first stage leaf as Linux writes it: P | R/W | U/S | A | D (+PS)
        Assert.Equal(0x3067UL, FlPte.Leaf(new PhysAddr(0x3000), 1, write: true));
        Assert.Equal(0x2000_00A5UL, FlPte.Leaf(new PhysAddr(0x2000_0000), 2, write: false));
        Assert.Equal(0x4027UL, FlPte.Table(new PhysAddr(0x4000)));
    }

    [Fact]
    public void Invalidation_descriptors_and_fault_records_encode_their_fields()
    {
        // IOTLB PSI: type 2 | G 3 << 4 | DW | DR | DID 7 << 16; qw1: ADDR | IH | AM 9
        var psi = InvalidationDescriptor.IotlbPage(7, 0x20_0000, 9, leafOnly: true);
        Assert.Equal(0x7_00F2UL, psi.Q0);
        Assert.Equal(0x20_0049UL, psi.Q1);

        // context device-selective: type 1 | G 3 << 4 | DID 2 << 16 | SID 0x0108 << 32 | FM 1 << 48
        Assert.Equal(0x1_0108_0002_0031UL, InvalidationDescriptor.ContextDevice(2, 0x0108, 1).Q0);

        // wait: type 5 | SW | FN | data << 32; qw1 = status address
        var wait = InvalidationDescriptor.Wait(0xCAFE, new PhysAddr(0x8000));
        Assert.Equal(0xCAFE_0000_0065UL, wait.Q0);
        Assert.Equal(0x8000UL, wait.Q1);

        // PASID-based IOTLB all-in-PASID: type 6 | G 2 << 4 | DID 3 << 16 | PASID 0x42 << 32
        Assert.Equal(0x42_0003_0026UL, InvalidationDescriptor.PasidIotlbAll(3, 0x42).Q0);

        // FRCD: FI in qw0; qw1: SID | FR << 32 | T (read) bit 62 | F bit 63, PP bit 31 | PV << 40 with a PASID
        var (low, high) = VtdFaultRecord.Encode(Rid.Create(3, 0, 0), null, new Iova(0x1234_5678), DmaAccess.Write, VtdFaultReason.WriteNotPermitted);
        Assert.Equal(0x1234_5000UL, low);
        Assert.Equal(0x8000_0005_0000_0300UL, high);
        (_, high) = VtdFaultRecord.Encode(Rid.Create(3, 0, 0), new Pasid(7), new Iova(0x1000), DmaAccess.Read, VtdFaultReason.PasidEntryNotPresent);
        Assert.Equal(0xC000_0759_8000_0300UL, high);
    }

    [Fact]
    public void Capability_registers_encode_sagaw_superpages_pasid_width_and_modes()
    {
        var caps = new VtdCapabilities { SecondStageLevels = [3, 4], FaultRecords = 8, MaxGuestAddressWidth = 48 };
        ulong cap = caps.Cap;
        Assert.Equal(0b00110, VtdCapRegister.Field(cap, VtdCapRegister.SagawShift, 5)); // bits 9 (39-bit) and 10 (48-bit)
        Assert.Equal(47, VtdCapRegister.Field(cap, VtdCapRegister.MgawShift, 6));
        Assert.Equal(7, VtdCapRegister.Field(cap, VtdCapRegister.NumberOfFaultRecordsShift, 8));
        Assert.True(VtdCapRegister.Bit(cap, 34) && VtdCapRegister.Bit(cap, 35));
        Assert.Equal(19, VtdCapRegister.Field(caps.Ecap, VtdEcapRegister.PasidSizeShift, 5));
        Assert.True(VtdCapRegister.Bit(caps.Ecap, VtdEcapRegister.ScalableModeBit));
        Assert.False(VtdCapRegister.Bit(caps.Ecap with { }, 2));
        var legacy = new VtdCapabilities { ScalableMode = false, SecondStage1G = false, CachingMode = true };
        Assert.False(VtdCapRegister.Bit(legacy.Ecap, VtdEcapRegister.ScalableModeBit));
        Assert.False(VtdCapRegister.Bit(legacy.Cap, 35));
        Assert.True(VtdCapRegister.Bit(legacy.Cap, VtdCapRegister.CachingModeBit));
    }

    [Fact]
    public void The_driver_writes_root_context_pasid_and_second_stage_entries_into_memory_as_worked_out_by_hand()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(bus: 2, device: 3, function: 1); // devfn 0x19, lower half
        var data = VtdIommuDriver.DataOf(dev);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x40_1000, 0x8765_4000, VtdRig.K4, IommuProt.Read);

        // root[2] → lower context table; context[0x19] (32 bytes each) → the device's PASID directory (256 PASIDs → 128 entries, PDTS 0, PASIDE)
        ulong root = rig.Unit.RootTable.Value;
        ulong rootLow = rig.ReadU64(root + (2 * 16));
        Assert.Equal(1UL, rootLow & 0xFFF);
        ulong context = (rootLow & ~0xFFFUL) + (0x19 * 32);
        Assert.Equal(data.PasidDirectory.Value | 0x9, rig.ReadU64(context));
        Assert.Equal(0UL, rig.ReadU64(context + 8)); // RID_PASID 0

        // directory[0] → PASID table; entry 0 (RID_PASID) = second stage, AW 2, DID 2 (the first free DID), PWSNP
        ulong dir0 = rig.ReadU64(data.PasidDirectory.Value);
        Assert.Equal(1UL, dir0 & 0xFFF);
        ulong pe = dir0 & ~0xFFFUL;
        Assert.Equal(domain.Root.Value | 0x89, rig.ReadU64(pe));
        Assert.Equal(0x80_0002UL, rig.ReadU64(pe + 8));
        for (ulong q = 2; q < 8; q++)
        {
            Assert.Equal(0UL, rig.ReadU64(pe + (q * 8)));
        }

        // 4-level second stage for IOVA 0x40_1000: indexes 0, 0, 2, 1; table entries R|W (+ a present count in 61:52), leaf R only
        ulong l4 = rig.ReadU64(domain.Root.Value);
        Assert.Equal(3UL, l4 & 0xFFF);
        ulong l3 = rig.ReadU64(l4 & SlPte.AddressMask);
        ulong l2 = rig.ReadU64((l3 & SlPte.AddressMask) + (2 * 8));
        ulong leaf = rig.ReadU64((l2 & SlPte.AddressMask) + (1 * 8));
        Assert.Equal(0x8765_4001UL, leaf);
        Assert.Equal(1UL, (l2 & SlPte.CountMask) >> SlPte.CountShift);
    }

    [Fact]
    public void A_legacy_mode_unit_gets_legacy_root_and_context_entries_with_the_domain_id()
    {
        var rig = new VtdRig(new VtdCapabilities { ScalableMode = false, PasidBits = 0, Nesting = false, FirstStage = false });
        var dev = rig.AddDevice(bus: 1, device: 0, function: 2, pasidBits: 0);
        var domain = rig.Attach(dev);
        ulong rootLow = rig.ReadU64(rig.Unit.RootTable.Value + 16);
        Assert.Equal(0UL, rig.ReadU64(rig.Unit.RootTable.Value + 24));
        ulong context = (rootLow & ~0xFFFUL) + (2 * 16);
        Assert.Equal(domain.Root.Value | 1, rig.ReadU64(context));
        Assert.Equal(2UL | (2UL << 8), rig.ReadU64(context + 8)); // AW 2, DID 2
        rig.Map(domain, 0x1000, 0x5000, VtdRig.K4);
        Assert.Equal(0x5008UL, VtdRig.Translate(dev, 0x1008).Address.Value);
    }
}
