using Ioasid.TestKit;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>The VT-d hot paths allocate nothing per page once warm.</summary>
public class VtdAllocationTests
{
    [Fact]
    public void Map_unmap_with_invalidation_and_translate_allocate_nothing()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Hardware.StaleChecker.Enabled = true;
        rig.Map(domain, 0x100_0000 + (300 * K4), 0x900_0000, K4); // keeps the tables alive
        var gather = new IotlbGather();
        Loop();

        Assert.Equal(0, Allocations.SteadyState(Loop));
        Assert.Empty(rig.Hardware.StaleChecker.Reports);

        void Loop()
        {
            for (int round = 0; round < 100; round++)
            {
                Check(domain.Ops.MapPages!(domain, new Iova(0x100_0000), new PhysAddr(0x200_0000), K4, 256, RW, out _));
                Check(domain.Ops.MapPages!(domain, new Iova(0x10_0000_0000), new PhysAddr(0x300_0000), K4, 1, IommuProt.Read, out _));
                for (ulong p = 0; p < 256; p += 3)
                {
                    var request = new DmaRequest(dev.Rid, null, new Iova(0x100_0000 + (p * K4)), 8, DmaAccess.Write);
                    if (!rig.Hardware.Translate(request).IsSuccess || !rig.Hardware.Translate(request).IotlbHit)
                    {
                        throw new InvalidOperationException("translation failed");
                    }
                }

                if (!IommuCore.IovaToPhys(domain, new Iova(0x100_1234), out _))
                {
                    throw new InvalidOperationException("not mapped");
                }

                domain.Ops.UnmapPages!(domain, new Iova(0x100_0000), K4, 256, gather);
                domain.Ops.UnmapPages!(domain, new Iova(0x10_0000_0000), K4, 1, gather); // disjoint: an early sync
                gather.Sync(domain);
            }
        }
    }

    private static void Check(Errno errno)
    {
        if (errno != Errno.None)
        {
            throw new InvalidOperationException(errno.ToString());
        }
    }
}
