using System.Buffers.Binary;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>
/// Nested translation: a guest's stage-1 CD table and tables (at IPAs) over a NEST_PARENT stage-2 domain. The domain
/// is made through the core's <c>AllocNestedDomain</c> (<c>domain_alloc_nested</c>) and attached like any domain.
/// </summary>
public class SmmuNestedTests
{
    private const ulong K4 = 0x1000;
    private const ulong GuestRam = 0x1000_0000; // IPA == PA for [0, 256 MiB): the guest's tables sit there

    private sealed class NestedRig
    {
        public NestedRig(int pasidBits = 0, ulong? user0 = null, ulong user1 = 0)
        {
            Rig = new SmmuRig();
            Dev = Rig.AddDevice(1, pasidBits);
            Parent = Rig.AllocS2(Dev);
            Rig.Map(Parent, 0, 0, GuestRam); // identity stage 2 for guest RAM, in 2 MiB blocks

            // The guest's stage-1 table and a one-CD linear CD table, in guest RAM.
            GuestTable = new ArmLpaePageTable(Rig.Memory, TranslationGranule.Size4K, 48, 48, stage2: false);
            CdTable = Rig.Memory.Frames.AllocateZeroed();
            var cd = new ContextDescriptor
            {
                T0Sz = 16, Ir0 = 1, Or0 = 1, Sh0 = 3, Epd1 = true, Valid = true, Ips = 5, Aa64 = true, Record = true, Abort = true,
                Aset = true, Asid = 7, Ttb0 = GuestTable.Root, Mair = SmmuV3Driver.Mair,
            };
            Rig.Memory.WriteU64(CdTable, cd.Qw0);
            Rig.Memory.WriteU64(new PhysAddr(CdTable.Value + 8), cd.Qw1);
            Rig.Memory.WriteU64(new PhysAddr(CdTable.Value + 24), cd.Qw3);
            ulong qw0 = user0 ?? new StreamTableEntry { Valid = true, Config = SteConfig.S1Translate, S1ContextPtr = CdTable }.Qw0;
            Nested = (SmmuNestedDomain)Rig.Core.AllocNestedDomain(Dev, Parent, false, true, 0, SmmuNestedDomain.DataType, Data(qw0, user1));
        }

        public SmmuRig Rig { get; }
        public IommuDevice Dev { get; }
        public SmmuPagingDomain Parent { get; }
        public ArmLpaePageTable GuestTable { get; }
        public PhysAddr CdTable { get; }
        public SmmuNestedDomain Nested { get; }

        public Errno Attach() => Rig.Core.SetGroupDomain(Dev.Group, Nested);
    }

    private static byte[] Data(ulong qw0, ulong qw1)
    {
        var data = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(data, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), qw1);
        return data;
    }

    private static byte[] Commands(params SmmuCommand[] commands)
    {
        var data = new byte[16 * commands.Length];
        for (int i = 0; i < commands.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 * i), commands[i].Qw0);
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan((16 * i) + 8), commands[i].Qw1);
        }

        return data;
    }

    [Fact]
    public void A_nested_ste_is_the_parent_s2_ste_with_config_nested_mev_and_the_users_s1_fields()
    {
        var n = new NestedRig();
        Assert.Equal(Errno.None, n.Attach());
        StreamTableEntry ste = n.Rig.Driver.StreamTable.Read(n.Rig.Sid(n.Dev));
        StreamTableEntry s2 = n.Rig.Driver.MakeS2Ste(n.Parent);
        Assert.Equal((SteConfig.Nested, true, n.CdTable), (ste.Config, ste.Mev, ste.S1ContextPtr));
        Assert.Equal((s2.Qw2, s2.Qw3), (ste.Qw2, ste.Qw3));
    }

    [Fact]
    public void Nested_dma_goes_through_the_guests_stage1_then_the_parents_stage2()
    {
        var n = new NestedRig();
        n.Attach();
        Assert.Equal(Errno.None, n.GuestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), K4, 1, SmmuRig.Rw, out _));
        var r = n.Rig.Translate(n.Dev, 0x4000_0010, DmaAccess.Write);
        Assert.True(r.IsSuccess);
        Assert.Equal(0x30_0010UL, r.Address.Value);

        // An IPA the parent does not map: a stage-2 fault on the input's IPA.
        Assert.Equal(Errno.None, n.GuestTable.MapPages(new Iova(0x4000_1000), new PhysAddr(GuestRam + 0x1000), K4, 1, SmmuRig.Rw, out _));
        Assert.Equal(FaultReason.Translation, n.Rig.Translate(n.Dev, 0x4000_1000).Fault);
        SmmuEvent evt = n.Rig.LastEvent();
        Assert.True(evt.Stage2);
        Assert.Equal(GuestRam + 0x1000, evt.Address);
    }

    [Fact]
    public void After_an_s2_change_tlbi_s2_ipa_alone_leaves_the_combined_entry_and_nh_all_removes_it()
    {
        var n = new NestedRig();
        n.Attach();
        n.GuestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), K4, 1, SmmuRig.Rw, out _);
        Assert.Equal(0x30_0000UL, n.Rig.Translate(n.Dev, 0x4000_0000).Address.Value);

        // Repoint the parent's 2 MiB block holding IPA 0x300000 at PA 0x1000_0000 behind the driver's back.
        Span<ulong> walk = stackalloc ulong[4];
        int levels = n.Parent.Table.ReadWalk(new Iova(0x30_0000), walk);
        ulong blockTable = walk[levels - 2] & VmsaDescriptor.AddressMask;
        ulong slot = blockTable + (((0x30_0000UL >> 21) & 0x1FF) * 8);
        n.Rig.Memory.WriteU64(new PhysAddr(slot), (walk[levels - 1] & ~VmsaDescriptor.AddressMask) | 0x1000_0000);
        n.Rig.Driver.Commands.Add(SmmuCommand.TlbiS2Ipa(n.Parent.Vmid, 0x30_0000, leaf: true));
        n.Rig.Driver.Commands.Sync();
        Assert.Equal(0x30_0000UL, n.Rig.Translate(n.Dev, 0x4000_0000).Address.Value); // stale combined entry

        n.Rig.Driver.Commands.Add(SmmuCommand.TlbiNhAll(n.Parent.Vmid));
        n.Rig.Driver.Commands.Sync();
        Assert.Equal(0x1010_0000UL, n.Rig.Translate(n.Dev, 0x4000_0000).Address.Value);
    }

    [Fact]
    public void Unmapping_the_nest_parent_through_the_core_also_drops_combined_entries()
    {
        var n = new NestedRig();
        n.Attach();
        n.GuestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), K4, 1, SmmuRig.Rw, out _);
        Assert.True(n.Rig.Translate(n.Dev, 0x4000_0000).IsSuccess);
        Assert.Equal(0x20_0000UL, n.Rig.Core.Unmap(n.Parent, new Iova(0x20_0000), 0x20_0000));
        Assert.Equal(FaultReason.Translation, n.Rig.Translate(n.Dev, 0x4000_0000).Fault);
        Assert.True(n.Rig.LastEvent().Stage2);
    }

    [Fact]
    public void The_nested_domain_claims_every_pasid_and_pasid_attach_is_refused_while_it_is_attached()
    {
        var n = new NestedRig(pasidBits: 8);
        var s1 = n.Rig.AllocS1(n.Dev);
        Assert.Equal(Errno.None, n.Rig.Core.SetPasid(n.Dev, new Pasid(3), s1));
        Assert.Equal(Errno.EBUSY, n.Attach()); // PASIDs in use: the nested domain would take them over

        n.Rig.Core.RemovePasid(n.Dev, new Pasid(3));
        Assert.Equal(Errno.None, n.Attach());
        Assert.Equal(Errno.EBUSY, n.Rig.Core.SetPasid(n.Dev, new Pasid(3), s1));
        Assert.Equal(SteConfig.Nested, n.Rig.Driver.StreamTable.Read(n.Rig.Sid(n.Dev)).Config);
    }

    [Fact]
    public void A_vste_with_forbidden_fields_or_configs_is_eio_and_v0_or_abort_becomes_an_abort_ste()
    {
        var ok = new NestedRig();
        var dev = ok.Dev;
        IommuDomain Alloc(ulong qw0, ulong qw1 = 0) => dev.Ops.DomainAllocNested!(dev, ok.Parent, 0, SmmuNestedDomain.DataType, Data(qw0, qw1));
        Errno ErrnoOf(Func<IommuDomain> f) => Assert.Throws<IoasidException>(() => f()).Errno;

        Assert.Equal(Errno.EIO, ErrnoOf(() => Alloc(new StreamTableEntry { Valid = true, Config = SteConfig.S2Translate }.Qw0)));
        Assert.Equal(Errno.EIO, ErrnoOf(() => Alloc(1 | (0b101 << 1), 1UL << 19)));     // MEV is not a user field
        Assert.Equal(Errno.EIO, ErrnoOf(() => Alloc(1 | (0b101 << 1), 2UL << 28)));     // EATS = 2
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => dev.Ops.DomainAllocNested!(dev, ok.Parent, 0, 1, Data(1, 0))).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => dev.Ops.DomainAllocNested!(dev, ok.Parent, 0, 2, new byte[8])).Errno);
        var notParent = ok.Rig.AllocS1(dev);
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => dev.Ops.DomainAllocNested!(dev, notParent, 0, 2, Data(1, 0))).Errno);

        Assert.Equal(StreamTable.Abort(), ((SmmuNestedDomain)Alloc(0)).Ste);
        Assert.Equal(StreamTable.Abort(), ((SmmuNestedDomain)Alloc(1)).Ste);
        Assert.Equal(ok.Rig.Driver.MakeS2Ste(ok.Parent), ((SmmuNestedDomain)Alloc(1 | (0b100 << 1))).Ste); // bypass: plain S2
    }

    [Fact]
    public void User_invalidation_takes_16_byte_commands_forces_the_parents_vmid_and_stops_at_an_unsupported_one()
    {
        var n = new NestedRig();
        n.Attach();
        n.GuestTable.MapPages(new Iova(0x4000_0000), new PhysAddr(0x30_0000), K4, 1, SmmuRig.Rw, out _);
        Assert.True(n.Rig.Translate(n.Dev, 0x4000_0000).IsSuccess);

        // The guest unmaps and invalidates its ASID 7 with a made-up VMID: the driver rewrites it to the parent's.
        n.GuestTable.UnmapPages(new Iova(0x4000_0000), K4, 1, new IotlbGather(), n.Parent);
        byte[] entries = Commands(SmmuCommand.TlbiNhAsid(0x55, 7), SmmuCommand.CfgiCd(n.Rig.Sid(n.Dev), 0), SmmuCommand.CfgiSte(n.Rig.Sid(n.Dev)));
        Errno errno = n.Nested.Ops.CacheInvalidateUser!(n.Nested, SmmuNestedDomain.InvalidateDataType, entries, 16, out uint handled);
        Assert.Equal((Errno.EIO, 2u), (errno, handled)); // CFGI_STE is not a user command
        Assert.Equal(FaultReason.Translation, n.Rig.Translate(n.Dev, 0x4000_0000).Fault);

        Assert.Equal(Errno.EIO, n.Nested.Ops.CacheInvalidateUser!(n.Nested, 1, Commands(SmmuCommand.CfgiCd(0x999, 0)), 16, out handled));
        Assert.Equal(0u, handled); // an unknown (v)SID
    }
}
