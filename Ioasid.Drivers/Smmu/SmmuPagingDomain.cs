using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// An SMMUv3 paging domain (Linux's <c>arm_smmu_domain</c>): one io-pgtable-arm table and one cache tag — an ASID for
/// stage 1, a VMID for stage 2 — and the list of (master, SSID) places it is installed, nothing else. Stage-1
/// domains go into CDs of the masters' CD tables (SSID 0 for the RID, the PASID otherwise); stage-2 domains into
/// STEs. Unmap invalidates by tag in <c>iotlb_sync</c> (TLBI_NH_VA or TLBI_S2_IPA, then CMD_SYNC), which reaches every
/// master at once, and frees table pages only after it.
/// </summary>
[IommuDomainOps(Paging = true)]
public sealed partial class SmmuPagingDomain : IommuDomain
{
    private readonly List<(SmmuMaster Master, uint Ssid)> _installs = new();

    internal SmmuPagingDomain(SmmuV3Driver driver, SmmuStage stage, TranslationGranule granule, int inputBits, int outputBits, bool nestParent, bool dirtyTracking = false)
        : base(IommuDomainType.Unmanaged, OpsTable, dirtyTracking)
    {
        Driver = driver;
        Stage = stage;
        NestParent = nestParent;
        Table = new ArmLpaePageTable(driver.Memory, granule, inputBits, outputBits, stage == SmmuStage.Stage2) { HardwareDirty = dirtyTracking };
        if (stage == SmmuStage.Stage1)
        {
            Asid = driver.Asids.Allocate();
        }
        else
        {
            Vmid = driver.Vmids.Allocate();
        }

        PageSizeBitmap = Table.PageSizeBitmap;
        Geometry = DomainGeometry.FromInputBits(inputBits);
    }

    /// <summary>The driver that allocated the domain.</summary>
    public SmmuV3Driver Driver { get; }

    /// <summary>The stage of the table.</summary>
    public SmmuStage Stage { get; }

    /// <summary>Whether the domain was allocated as a nest parent (IOMMU_HWPT_ALLOC_NEST_PARENT).</summary>
    public bool NestParent { get; }

    /// <summary>The page table.</summary>
    public ArmLpaePageTable Table { get; }

    /// <summary>The ASID (stage 1), else 0.</summary>
    public ushort Asid { get; }

    /// <summary>The VMID (stage 2), else 0.</summary>
    public ushort Vmid { get; }

    /// <summary>Where the domain is installed: (master, SSID) pairs, SSID 0 being the RID for stage 1.</summary>
    public IReadOnlyList<(SmmuMaster Master, uint Ssid)> Installs => _installs;

    /// <summary>The stage-1 CD Linux's <c>arm_smmu_make_s1_cd</c> writes for this domain.</summary>
    public ContextDescriptor MakeCd() => new()
    {
        T0Sz = 64 - Table.InputBits,
        Tg0 = Table.Granule.Tg0Encoding(),
        Ir0 = 1,
        Or0 = 1,
        Sh0 = 3,
        Epd1 = true,
        Valid = true,
        Ips = AddressSize.FromBits(Table.OutputBits),
        Aa64 = true,
        Ha = Table.HardwareDirty, // HTTU on for a dirty-tracking domain: AF and dirty-state updates
        Hd = Table.HardwareDirty,
        Record = true,
        Abort = true,
        Aset = true,
        Asid = Asid,
        Ttb0 = Table.Root,
        Mair = SmmuV3Driver.Mair,
    };

    internal void AddInstall(SmmuMaster master, uint ssid)
    {
        if (!_installs.Contains((master, ssid)))
        {
            _installs.Add((master, ssid));
        }
    }

    internal void RemoveInstall(SmmuMaster master, uint ssid) => _installs.Remove((master, ssid));

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(SmmuPagingDomain domain, IommuDevice device, IommuDomain? old) =>
        domain.Driver.AttachRid(device, domain);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(SmmuPagingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        domain.Driver.SetPasid(device, pasid, domain);

    [DomainOp(DomainOpKind.MapPages)]
    private static Errno MapPages(SmmuPagingDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped) =>
        domain.Table.MapPages(iova, paddr, pageSize, pageCount, prot, out mapped);

    [DomainOp(DomainOpKind.UnmapPages)]
    private static ulong UnmapPages(SmmuPagingDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather) =>
        domain.Table.UnmapPages(iova, pageSize, pageCount, gather, domain);

    [DomainOp(DomainOpKind.IotlbSync)]
    private static void IotlbSync(SmmuPagingDomain domain, IotlbGather gather)
    {
        if (!gather.IsEmpty)
        {
            domain.Driver.InvalidateRange(domain, gather.Start, gather.End - gather.Start + 1, gather.PageSize, leaf: gather.Freelist.Count == 0);
        }

        domain.Table.FreeGatheredTables(gather);
    }

    [DomainOp(DomainOpKind.FlushIotlbAll)]
    private static void FlushIotlbAll(SmmuPagingDomain domain) => domain.Driver.InvalidateAll(domain);

    [DomainOp(DomainOpKind.IovaToPhys)]
    private static bool IovaToPhys(SmmuPagingDomain domain, Iova iova, out PhysAddr physical) => domain.Table.IovaToPhys(iova, out physical);

    [DomainOp(DomainOpKind.EnforceCacheCoherency)]
    private static bool EnforceCacheCoherency(SmmuPagingDomain domain) => domain.Driver.Features.Coherent;

    [DomainOp(DomainOpKind.Free)]
    private static void Free(SmmuPagingDomain domain)
    {
        domain.Driver.InvalidateAll(domain);
        if (domain.Stage == SmmuStage.Stage1)
        {
            domain.Driver.Asids.Free(domain.Asid);
        }
        else
        {
            domain.Driver.Vmids.Free(domain.Vmid);
        }

        domain.Table.Destroy();
    }
}
