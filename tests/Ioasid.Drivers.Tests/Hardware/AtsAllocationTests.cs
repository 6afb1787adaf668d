using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Tests.Smmu;
using Ioasid.Drivers.Tests.Vtd;
using Ioasid.TestKit;

namespace Ioasid.Drivers.Tests.Hardware;

/// <summary>
/// The ATS paths allocate nothing per page once warm, on both vendors: device-TLB misses (translation requests through
/// the IOMMU), hits (translated requests, checked by the stale-translation checker), unmap with IOTLB and device-TLB
/// invalidation.
/// </summary>
public class AtsAllocationTests
{
    private const ulong K4 = 0x1000;

    [Fact]
    public void Vtd_ats_dma_and_device_tlb_invalidation_allocate_nothing()
    {
        var rig = new VtdRig(new VtdCapabilities { DeviceTlb = true });
        var dev = rig.Core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "ats", pasidBits: 8, ats: true));
        var domain = rig.Attach(dev);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), domain));
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x100_0000 + (300 * K4), 0x900_0000, K4); // keeps the tables alive
        var gather = new IotlbGather();
        Loop(rig.Hardware, domain, dev.Rid, gather);
        Loop(rig.Hardware, domain, dev.Rid, gather);

        Assert.Equal(0, Allocations.SteadyState(() => Loop(rig.Hardware, domain, dev.Rid, gather)));
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
        Assert.True(rig.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidDeviceTlb) > 0);
    }

    [Fact]
    public void Smmu_ats_dma_and_atc_invalidation_allocate_nothing()
    {
        var rig = new SmmuRig(new IdRegisters { Ats = true });
        var dev = rig.Core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "ats", pasidBits: 8, ats: true));
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(5), domain));
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x100_0000 + (300 * K4), 0x900_0000, K4);
        var gather = new IotlbGather();
        Loop(rig.Hardware, domain, dev.Rid, gather);
        Loop(rig.Hardware, domain, dev.Rid, gather);

        Assert.Equal(0, Allocations.SteadyState(() => Loop(rig.Hardware, domain, dev.Rid, gather)));
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
        Assert.True(rig.Hardware.AtcInvalidations > 0);
    }

    private static void Loop(IDmaTranslator hardware, IommuDomain domain, Rid rid, IotlbGather gather)
    {
        for (int round = 0; round < 20; round++)
        {
            if (domain.Ops.MapPages!(domain, new Iova(0x100_0000), new PhysAddr(0x200_0000), K4, 64, IommuProt.Read | IommuProt.Write, out _) != Errno.None)
            {
                throw new InvalidOperationException("map failed");
            }

            for (ulong p = 0; p < 64; p += 4)
            {
                var request = new DmaRequest(rid, (p & 4) != 0 ? new Pasid(5) : null, new Iova(0x100_0000 + (p * K4)), 8, DmaAccess.Write);
                if (hardware.Translate(request).DeviceTlbHit || !hardware.Translate(request).DeviceTlbHit)
                {
                    throw new InvalidOperationException("expected a device-TLB miss, then a hit");
                }
            }

            domain.Ops.UnmapPages!(domain, new Iova(0x100_0000), K4, 64, gather);
            gather.Sync(domain);
        }
    }
}
