using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>First-stage domains and the first-stage walk (drivers.md §2.7, §5 invariant 22).</summary>
public class VtdFirstStageTests
{
    [Fact]
    public void A_first_stage_domain_writes_linux_style_leaves_and_invalidates_by_pasid()
    {
        var rig = new VtdRig();
        rig.Driver.FirstStageByDefault = true;
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        Assert.Equal(VtdPagingStage.FirstStage, domain.Stage);
        Assert.Equal((1UL << 47) - 1, domain.Geometry.ApertureEnd.Value);
        rig.Map(domain, 0x1000, 0x5000, K4);
        Assert.Equal(0x5008UL, Translate(dev, 0x1008, DmaAccess.Write).Address.Value);
        ulong pml4 = rig.ReadU64(domain.Root.Value);
        Assert.Equal(FlPte.Present | FlPte.Writable | FlPte.User | FlPte.Accessed, pml4 & 0xFFF);
        long piotlb = rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb);
        rig.Core.Unmap(domain, new Iova(0x1000), K4);
        Assert.Equal(piotlb + 1, rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb));
        Assert.Equal(VtdFaultReason.FirstStageNotPresent, Code(Translate(dev, 0x1008)));
    }

    [Fact]
    public void The_hardware_sets_a_on_walked_entries_and_d_on_written_leaves_and_checks_canonical_and_user()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var data = VtdIommuDriver.DataOf(dev);
        var memory = rig.Memory;

        // a hand-built first-stage table without A/D: PML4 → PDPT → PD → PT → 0x9000
        var pages = new PhysAddr[4];
        for (int i = 0; i < 4; i++)
        {
            pages[i] = memory.Frames.AllocateZeroed();
        }

        const ulong present = FlPte.Present | FlPte.Writable | FlPte.User;
        memory.WriteU64(pages[0], pages[1].Value | present);
        memory.WriteU64(pages[1], pages[2].Value | present);
        memory.WriteU64(pages[2], pages[3].Value | present);
        memory.WriteU64(new PhysAddr(pages[3].Value + 8), 0x9000 | present); // IOVA 0x1000
        memory.WriteU64(new PhysAddr(pages[3].Value + 16), 0xA000 | FlPte.Present | FlPte.Writable); // IOVA 0x2000, supervisor only
        rig.Core.SetGroupDomain(dev.Group, rig.Driver.Identity); // gives the RID a PASID table page
        var entry = PasidEntry.FirstStage(pages[0], false, 9);
        ulong pe = data.PasidEntryAddress(0, allocate: true).Value;
        memory.WriteU64(new PhysAddr(pe + 16), entry.Q2);
        memory.WriteU64(new PhysAddr(pe + 8), entry.Q1);
        memory.WriteU64(new PhysAddr(pe), entry.Q0);
        rig.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCacheGlobalGranularity, 0, 0));
        rig.Unit.Flush();

        Assert.True(Translate(dev, 0x1000, DmaAccess.Read).IsSuccess);
        ulong leaf = rig.ReadU64(pages[3].Value + 8);
        Assert.NotEqual(0UL, rig.ReadU64(pages[0].Value) & FlPte.Accessed);
        Assert.NotEqual(0UL, leaf & FlPte.Accessed);
        Assert.Equal(0UL, leaf & FlPte.Dirty); // a read leaves D clear
        Assert.True(Translate(dev, 0x1000, DmaAccess.Write).IsSuccess); // walks again to set D
        Assert.NotEqual(0UL, rig.ReadU64(pages[3].Value + 8) & FlPte.Dirty);

        Assert.Equal(VtdFaultReason.FirstStagePrivilege, Code(Translate(dev, 0x2000)));
        Assert.Equal(VtdFaultReason.NonCanonical, Code(Translate(dev, 1UL << 50)));
        Assert.True(Translate(dev, 0xFFFF_8000_0000_0000).Fault != FaultReason.AddressSize); // canonical upper half: walked (and not present)
    }
}
