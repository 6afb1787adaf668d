using Ioasid;
using Ioasid.Core.Iommu;
using TinyIommu.Format;

namespace TinyIommu.Driver;

/// <summary>
/// A tiny-iommu paging domain: a page table and a domain id (the IOTLB tag). Its <c>iommu_domain_ops</c> table,
/// <c>OpsTable</c>, is generated from the <c>[DomainOp]</c> methods.
/// </summary>
[IommuDomainOps(Paging = true)]
public sealed partial class TinyPagingDomain : IommuDomain
{
    private readonly TinyIommuDriver _driver;
    private readonly TinyPageTable _table;

    internal TinyPagingDomain(TinyIommuDriver driver)
        : base(IommuDomainType.Unmanaged, OpsTable)
    {
        _driver = driver;
        _table = new TinyPageTable(driver.Memory);
        DomainId = driver.AllocateDomainId();
        PageSizeBitmap = TinyPte.PageSize;
        Geometry = new DomainGeometry(new Iova(TinyPte.PageSize), new Iova((1UL << TinyPte.InputBits) - 1));
    }

    /// <summary>The domain id the hardware tags this domain's IOTLB entries with.</summary>
    public ushort DomainId { get; }

    /// <summary>Page-table pages in use.</summary>
    public long TablePages => _table.TablePages;

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(TinyPagingDomain domain, IommuDevice device, IommuDomain? old)
    {
        domain._driver.WriteDeviceEntry(device.Rid, DeviceTableEntry.Translate(domain._table.Root, domain.DomainId));
        return Errno.None;
    }

    [DomainOp(DomainOpKind.MapPages)]
    private static Errno MapPages(TinyPagingDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped)
    {
        mapped = 0;
        return pageSize == TinyPte.PageSize ? domain._table.Map(iova, paddr, pageCount, prot, out mapped) : Errno.EINVAL;
    }

    [DomainOp(DomainOpKind.UnmapPages)]
    private static ulong UnmapPages(TinyPagingDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather) =>
        pageSize == TinyPte.PageSize ? domain._table.Unmap(iova, pageCount, gather, domain) : 0;

    [DomainOp(DomainOpKind.IotlbSync)]
    private static void IotlbSync(TinyPagingDomain domain, IotlbGather gather)
    {
        if (!gather.IsEmpty)
        {
            domain._driver.Hardware.InvalidatePages(domain.DomainId, new Iova(gather.Start), gather.End - gather.Start + 1);
        }

        domain._table.FreeGatheredTables(gather); // only now can no walk reach them
    }

    [DomainOp(DomainOpKind.FlushIotlbAll)]
    private static void FlushIotlbAll(TinyPagingDomain domain) => domain._driver.Hardware.InvalidateDomain(domain.DomainId);

    [DomainOp(DomainOpKind.IovaToPhys)]
    private static bool IovaToPhys(TinyPagingDomain domain, Iova iova, out PhysAddr physical) => domain._table.IovaToPhys(iova, out physical);

    [DomainOp(DomainOpKind.Free)]
    private static void Free(TinyPagingDomain domain)
    {
        domain._driver.Hardware.InvalidateDomain(domain.DomainId);
        domain._table.Destroy();
    }
}

/// <summary>The static blocking domain: V = 1, TV = 0 in the device table.</summary>
[IommuDomainOps]
public sealed partial class TinyBlockedDomain : IommuDomain
{
    private readonly TinyIommuDriver _driver;

    internal TinyBlockedDomain(TinyIommuDriver driver)
        : base(IommuDomainType.Blocked, OpsTable) => _driver = driver;

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(TinyBlockedDomain domain, IommuDevice device, IommuDomain? old)
    {
        domain._driver.WriteDeviceEntry(device.Rid, DeviceTableEntry.Blocked);
        return Errno.None;
    }
}
