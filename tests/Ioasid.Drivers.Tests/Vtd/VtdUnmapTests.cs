using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using Xunit;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>
/// unmap_pages in its two shapes: a request inside one leaf table (one walk) and the general range clear; both keep
/// the per-table counts exact, so emptied tables are unlinked, and freed only after the sync.
/// </summary>
public sealed class VtdUnmapTests
{
    private const ulong Base = 0x40_0000_0000; // its own L3, L2 and L1 tables under the root

    [Fact]
    public void Unmapping_the_last_leaf_of_a_table_unlinks_the_emptied_tables_and_frees_them_after_the_sync()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        long before = domain.TablePages;
        rig.Map(domain, Base + K4, 0x8000_0000, K4);
        Assert.Equal(before + 3, domain.TablePages);
        int rootIndex = (int)((Base >> 39) & 511);
        ulong rootEntry = domain.Root.Value + ((ulong)rootIndex * 8);
        Assert.NotEqual(0UL, rig.ReadU64(rootEntry));

        var gather = new IotlbGather();
        Assert.Equal(K4, domain.Ops.UnmapPages!(domain, new Iova(Base + K4), K4, 1, gather));
        Assert.Equal(0UL, rig.ReadU64(rootEntry)); // L1, L2 and L3 emptied in turn: unlinked up to the root
        Assert.Equal(3, gather.Freelist.Count);
        Assert.Equal(before + 3, domain.TablePages); // not freed before the IOTLB is synced
        gather.Sync(domain);
        Assert.Equal(before, domain.TablePages);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, Base + K4)));
    }

    [Fact]
    public void Unmapping_one_of_two_leaves_keeps_the_table_its_count_and_the_other_translation()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, Base, 0x8000_0000, K4);
        rig.Map(domain, Base + (7 * K4), 0x8000_7000, K4);
        ulong l1Pointer = L1Pointer(rig, domain);
        Assert.Equal(2UL, (rig.ReadU64(l1Pointer) >> SlPte.CountShift) & 0x3FF);

        Assert.Equal(K4, rig.Core.Unmap(domain, new Iova(Base), K4));
        Assert.Equal(1UL, (rig.ReadU64(l1Pointer) >> SlPte.CountShift) & 0x3FF);
        Assert.Equal(0x8000_7008UL, Translate(dev, Base + (7 * K4) + 8).Address.Value);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, Base)));

        // unmapping the last one now empties the table
        Assert.Equal(K4, rig.Core.Unmap(domain, new Iova(Base + (7 * K4)), K4));
        Assert.Equal(0UL, rig.ReadU64(l1Pointer));
    }

    [Fact]
    public void A_run_with_holes_inside_one_table_and_a_run_across_two_tables_both_return_the_full_size()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, Base, 0x8000_0000, 4 * K4);
        rig.Map(domain, Base + (8 * K4), 0x8000_8000, 4 * K4);
        var gather = new IotlbGather();
        Assert.Equal(16 * K4, domain.Ops.UnmapPages!(domain, new Iova(Base), K4, 16, gather)); // holes count, as intel_iommu_unmap
        gather.Sync(domain);
        Assert.Equal(0UL, rig.ReadU64(domain.Root.Value + (((Base >> 39) & 511) * 8))); // every table under Base emptied

        // 510..513 straddles two leaf tables: the general path
        rig.Map(domain, Base + (510 * K4), 0x9000_0000, 4 * K4);
        Assert.Equal(0x9000_3000UL, Translate(dev, Base + (513 * K4)).Address.Value);
        Assert.Equal(4 * K4, rig.Core.Unmap(domain, new Iova(Base + (510 * K4)), 4 * K4));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, Base + (510 * K4))));
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(Translate(dev, Base + (513 * K4))));
    }

    // The level-2 entry pointing at Base's leaf table (0 once that table is unlinked).
    private static ulong L1Pointer(VtdRig rig, VtdPagingDomain domain)
    {
        ulong l3 = rig.ReadU64(domain.Root.Value + (((Base >> 39) & 511) * 8)) & SlPte.AddressMask;
        ulong l2 = rig.ReadU64(l3 + (((Base >> 30) & 511) * 8)) & SlPte.AddressMask;
        return l2 + (((Base >> 21) & 511) * 8);
    }
}
