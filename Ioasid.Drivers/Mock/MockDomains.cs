using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Mock;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// A mock paging domain: its page table and its cache tag, nothing per device (the context entries that point at
/// the table belong to the hardware's per-device state). Invalidation goes to the hardware in <c>iotlb_sync</c>,
/// and page-table pages are freed only after it.
/// </summary>
[IommuDomainOps(Paging = true)]
public sealed partial class MockPagingDomain : IommuDomain
{
    private readonly MockPageTable _table;

    internal MockPagingDomain(MockIommuDriver driver)
        : base(IommuDomainType.Unmanaged, OpsTable)
    {
        Driver = driver;
        _table = new MockPageTable(driver.Memory);
        Tag = driver.AllocateTag();
        PageSizeBitmap = MockPteFormat.PageSizeBitmap;
        Geometry = new DomainGeometry(new Iova(MockIommuDriver.ApertureStart), new Iova(MockIommuDriver.ApertureLast));
    }

    /// <summary>The driver that allocated the domain.</summary>
    public MockIommuDriver Driver { get; }

    /// <summary>The tag the hardware caches this domain's translations under.</summary>
    public ulong Tag { get; }

    /// <summary>The physical address of the top-level table.</summary>
    public PhysAddr Root => _table.Root;

    /// <summary>Table pages in use.</summary>
    public long TablePages => _table.TablePages;

    private MockContextEntry Entry => MockContextEntry.Translate(_table.Root, Tag);

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(MockPagingDomain domain, IommuDevice device, IommuDomain? old)
    {
        domain.Driver.Hardware.SetRidEntry(device.Rid, domain.Entry);
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockPagingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.SetPasidEntry(device.Rid, pasid, domain.Entry);
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
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockBlockedDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.ClearEntry(device.Rid, pasid);
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
        return Errno.None;
    }

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(MockIdentityDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.Hardware.SetPasidEntry(device.Rid, pasid, MockContextEntry.Identity);
        return Errno.None;
    }
}
