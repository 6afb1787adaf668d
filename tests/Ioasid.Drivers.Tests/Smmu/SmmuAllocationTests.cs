using Ioasid.TestKit;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>The SMMUv3 hot paths allocate nothing per page once warm: map, unmap with TLBI + CMD_SYNC, TLB hits and walks.</summary>
public class SmmuAllocationTests
{
    [Theory]
    [InlineData(TranslationGranule.Size4K)]
    [InlineData(TranslationGranule.Size64K)]
    public void Map_unmap_sync_and_translate_allocate_nothing(TranslationGranule granule)
    {
        var rig = new SmmuRig(granule: granule);
        var dev = rig.AddDevice(1);
        var domain = rig.AllocS1(dev);
        rig.Attach(dev, domain);
        rig.Hardware.StaleChecker.Enabled = true; // clean hits: the check walks but reports nothing
        ulong page = granule.PageSize();
        ulong iova = 4UL << granule.LevelShift(2);
        DomainOps ops = domain.Ops;
        var gather = new IotlbGather();
        Assert.Equal(Errno.None, ops.MapPages!(domain, new Iova(iova + (300 * page)), new PhysAddr(0x900_0000), page, 1, IommuProt.Read, out _));
        Loop();
        Loop(); // a second warm-up round: tiering and on-stack replacement settle

        Assert.Equal(0, Allocations.SteadyState(Loop));
        Assert.Empty(rig.Hardware.StaleChecker.Reports);

        void Loop()
        {
            for (int round = 0; round < 50; round++)
            {
                if (ops.MapPages!(domain, new Iova(iova), new PhysAddr(0x100_0000), page, 256, SmmuRig.Rw, out _) != Errno.None)
                {
                    throw new InvalidOperationException("map failed");
                }

                for (ulong p = 0; p < 256; p += 16)
                {
                    // A miss (walk + insert), then a hit.
                    var request = new DmaRequest(dev.Rid, null, new Iova(iova + (p * page) + 8), 8, DmaAccess.Write);
                    if (!rig.Hardware.Translate(request).IsSuccess || !rig.Hardware.Translate(request).IotlbHit)
                    {
                        throw new InvalidOperationException("translation failed");
                    }
                }

                if (!IommuCore.IovaToPhys(domain, new Iova(iova + 0x10), out _))
                {
                    throw new InvalidOperationException("not mapped");
                }

                ops.UnmapPages!(domain, new Iova(iova), page, 256, gather);
                gather.Sync(domain);
            }
        }
    }
}
