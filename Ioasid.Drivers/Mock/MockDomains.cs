using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Drivers.Hardware.Mock;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// A mock paging domain: its page table, its cache tag, and the list of context entries pointing at it (so that
/// turning dirty tracking on or off can reprogram them, as VT-d does with its domain's device list) — never a
/// per-device table. Invalidation goes to the hardware in <c>iotlb_sync</c>, and page-table pages are freed only
/// after it.
/// </summary>
[IommuDomainOps(Paging = true)]
public sealed partial class MockPagingDomain : IommuDomain
{
    private readonly MockPageTable _table;
    private readonly HashSet<(Rid Rid, Pasid Pasid)> _users = new();

    internal MockPagingDomain(MockIommuDriver driver, HwptAllocFlags flags)
        : base(IommuDomainType.Unmanaged, OpsTable, dirtyTracking: (flags & HwptAllocFlags.DirtyTracking) != 0)
    {
        Driver = driver;
        Flags = flags;
        _table = new MockPageTable(driver.Memory);
        Tag = driver.AllocateTag();
        PageSizeBitmap = MockPteFormat.PageSizeBitmap;
        Geometry = new DomainGeometry(new Iova(MockIommuDriver.ApertureStart), new Iova(MockIommuDriver.ApertureLast));
    }

    /// <summary>The driver that allocated the domain.</summary>
    public MockIommuDriver Driver { get; }

    /// <summary>The IOMMU_HWPT_ALLOC flags the domain was allocated with.</summary>
    public HwptAllocFlags Flags { get; }

    /// <summary>The tag the hardware caches this domain's translations under.</summary>
    public ulong Tag { get; }

    /// <summary>The physical address of the top-level table.</summary>
    public PhysAddr Root => _table.Root;

    /// <summary>Table pages in use.</summary>
    public long TablePages => _table.TablePages;

    /// <summary>Whether DMA writes are being logged in the table's <c>D</c> bits.</summary>
    public bool IsDirtyTracking { get; private set; }

    private MockContextEntry Entry => MockContextEntry.Translate(_table.Root, Tag, IsDirtyTracking);

    // A device or PASID moved to another domain: the old one forgets it.
    internal static void Forget(IommuDomain? old, Rid rid, Pasid pasid)
    {
        if (old is MockPagingDomain paging)
        {
            paging._users.Remove((rid, pasid));
        }
    }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(MockPagingDomain domain, IommuDevice device, IommuDomain? old)
    {
        // As the kernel mock: a dirty-tracking domain refuses a device that cannot track (EINVAL = incompatible).
        if (domain.HasDirtyOps && domain.Driver.DevicesWithoutDirtyTracking.Contains(device.Rid))
        {
            return Errno.EINVAL;
        }

        domain.Driver.Hardware.SetRidEntry(device.Rid, domain.Entry);
        Forget(old, device.Rid, Pasid.NoPasid);
        domain._users.Add((device.Rid, Pasid.NoPasid));
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockPagingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.SetPasidEntry(device.Rid, pasid, domain.Entry);
        Forget(old, device.Rid, pasid);
        domain._users.Add((device.Rid, pasid));
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDirtyTracking)]
    private static Errno SetDirtyTracking(MockPagingDomain domain, bool enable)
    {
        if (!domain.HasDirtyOps)
        {
            return Errno.EINVAL; // as the kernel mock, asked without dirty ops
        }

        domain.IsDirtyTracking = enable;
        var entry = domain.Entry;
        foreach (var (rid, pasid) in domain._users)
        {
            if (pasid.IsNoPasid)
            {
                domain.Driver.Hardware.SetRidEntry(rid, entry);
            }
            else
            {
                domain.Driver.Hardware.SetPasidEntry(rid, pasid, entry);
            }
        }

        return Errno.None;
    }

    [DomainOp(DomainOpKind.ReadAndClearDirty)]
    private static Errno ReadAndClearDirty(MockPagingDomain domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty)
    {
        if (!domain.IsDirtyTracking && !dirty.IsClearOnly)
        {
            return Errno.EINVAL; // the kernel mock refuses to read while tracking is off (clearing is allowed)
        }

        domain._table.ReadAndClearDirty(iova, size, noClear, dirty);
        return Errno.None;
    }

    [DomainOp(DomainOpKind.MapPages)]
    private static Errno MapPages(MockPagingDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped) =>
        domain._table.MapPages(iova, paddr, pageSize, pageCount, prot, out mapped);

    [DomainOp(DomainOpKind.UnmapPages)]
    private static ulong UnmapPages(MockPagingDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather) =>
        domain._table.UnmapPages(iova, pageSize, pageCount, gather, domain);

    [DomainOp(DomainOpKind.IotlbSync)]
    private static void IotlbSync(MockPagingDomain domain, IotlbGather gather)
    {
        if (!gather.IsEmpty)
        {
            domain.Driver.Hardware.InvalidateRange(domain.Tag, new Iova(gather.Start), gather.End - gather.Start + 1);
        }

        domain._table.FreeGatheredTables(gather);
    }

    [DomainOp(DomainOpKind.FlushIotlbAll)]
    private static void FlushIotlbAll(MockPagingDomain domain) => domain.Driver.Hardware.InvalidateTag(domain.Tag);

    [DomainOp(DomainOpKind.IovaToPhys)]
    private static bool IovaToPhys(MockPagingDomain domain, Iova iova, out PhysAddr physical) => domain._table.IovaToPhys(iova, out physical);

    [DomainOp(DomainOpKind.EnforceCacheCoherency)]
    private static bool EnforceCacheCoherency(MockPagingDomain domain) => true;

    [DomainOp(DomainOpKind.Free)]
    private static void Free(MockPagingDomain domain)
    {
        domain.Driver.Hardware.InvalidateTag(domain.Tag);
        domain._table.Destroy();
    }
}

/// <summary>The mock's static blocking domain: every RID or PASID it takes faults.</summary>
[IommuDomainOps]
public sealed partial class MockBlockedDomain : IommuDomain
{
    internal MockBlockedDomain(MockIommuDriver driver)
        : base(IommuDomainType.Blocked, OpsTable) => Driver = driver;

    /// <summary>The driver the domain belongs to.</summary>
    public MockIommuDriver Driver { get; }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(MockBlockedDomain domain, IommuDevice device, IommuDomain? old)
    {
        domain.Driver.Hardware.SetRidEntry(device.Rid, MockContextEntry.Blocked);
        MockPagingDomain.Forget(old, device.Rid, Pasid.NoPasid);
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockBlockedDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.ClearEntry(device.Rid, pasid);
        MockPagingDomain.Forget(old, device.Rid, pasid);
        return Errno.None;
    }
}

/// <summary>The mock's static identity domain: IOVA equals physical address.</summary>
[IommuDomainOps]
public sealed partial class MockIdentityDomain : IommuDomain
{
    internal MockIdentityDomain(MockIommuDriver driver)
        : base(IommuDomainType.Identity, OpsTable) => Driver = driver;

    /// <summary>The driver the domain belongs to.</summary>
    public MockIommuDriver Driver { get; }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(MockIdentityDomain domain, IommuDevice device, IommuDomain? old)
    {
        domain.Driver.Hardware.SetRidEntry(device.Rid, MockContextEntry.Identity);
        MockPagingDomain.Forget(old, device.Rid, Pasid.NoPasid);
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockIdentityDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.SetPasidEntry(device.Rid, pasid, MockContextEntry.Identity);
        MockPagingDomain.Forget(old, device.Rid, pasid);
        return Errno.None;
    }
}
