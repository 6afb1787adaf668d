using Ioasid.TestKit;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Tests.Mock;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Tests.Hardware;

/// <summary>The hot paths allocate nothing once warmed up (tables exist, memory blocks are backed, lists have grown).</summary>
public class AllocationTests
{
    private const ulong K4 = F.PageSize4K;

    [Fact]
    public void Translate_and_dma_on_iotlb_hits_allocate_nothing()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova, 0x100_0000, K4, 256));
        rig.Hardware.StaleChecker.Enabled = true; // clean hits: the check walks but reports nothing
        var pasidRequest = DmaRequest.ForRead(MockRig.Device, new Iova(iova), 64).WithPasid(new Pasid(1));
        rig.Hardware.SetPasidEntry(MockRig.Device, new Pasid(1), Ioasid.Drivers.Hardware.Mock.MockContextEntry.Translate(rig.Table.Root, MockRig.Tag));
        var buffer = new byte[64];
        Loop();

        Assert.Equal(0, Allocations.SteadyState(Loop));
        Assert.Empty(rig.Hardware.StaleChecker.Reports);
        Assert.True(rig.Hardware.Iotlb.Hits > 10_000);

        void Loop()
        {
            for (int round = 0; round < 50; round++)
            {
                for (ulong p = 0; p < 256; p++)
                {
                    var request = new DmaRequest(MockRig.Device, null, new Iova(iova + (p * K4) + 8), 8, DmaAccess.Write);
                    if (!rig.Hardware.Translate(request).IsSuccess)
                    {
                        throw new InvalidOperationException("translation failed");
                    }
                }

                rig.Hardware.Dma(pasidRequest with { Iova = new Iova(iova + K4 - 32) }, buffer);
            }
        }
    }

    [Fact]
    public void Map_unmap_sync_and_iova_to_phys_allocate_nothing()
    {
        var rig = new MockRig();
        const ulong iova = MockRig.ApertureStart;
        Assert.Equal(Errno.None, rig.Map(iova + (300 * K4), 0x900_0000, K4, 1)); // keeps the tables alive in one case
        Loop();

        Assert.Equal(0, Allocations.SteadyState(Loop));

        void Loop()
        {
            for (int round = 0; round < 200; round++)
            {
                // A 256-page run into existing tables, and a page far away whose tables are created and freed each round.
                Check(rig.Table.MapPages(new Iova(iova), new PhysAddr(0x100_0000), K4, 256, IommuProt.Read | IommuProt.Write, out _));
                Check(rig.Table.MapPages(new Iova(0x10_0000_0000), new PhysAddr(0x200_0000), K4, 1, IommuProt.Read, out _));
                if (!rig.Table.IovaToPhys(new Iova(iova + 0x1234), out _) || !rig.Translate(iova + 0x1234).IsSuccess)
                {
                    throw new InvalidOperationException("not mapped");
                }

                rig.Unmap(iova, K4, 256);
                rig.Unmap(0x10_0000_0000, K4, 1); // disjoint: syncs the first range early
                rig.Sync();
            }
        }

        static void Check(Errno e)
        {
            if (e != Errno.None)
            {
                throw new InvalidOperationException(e.ToString());
            }
        }
    }
}
