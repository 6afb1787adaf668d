using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>Which page-table format a VT-d paging domain uses.</summary>
public enum VtdPagingStage
{
    /// <summary>Second-stage tables (<see cref="SlPte"/>), installed as PGTT 010b or a legacy context entry; IOTLB tags by DID.</summary>
    SecondStage,

    /// <summary>First-stage tables (<see cref="FlPte"/>), installed as PGTT 001b; IOTLB tags by DID and PASID.</summary>
    FirstStage,
}

/// <summary>
/// A VT-d paging domain: its IO page table and its cache tags, nothing per device. Map writes the table; unmap
/// records into the gather; <c>iotlb_sync</c> sends real descriptors through every unit the domain is attached to
/// (IOTLB PSI/DSI for second stage — for a nest parent also for the DIDs of the nested domains on it — and
/// PASID-based IOTLB for first stage), then device-TLB invalidations for every ATS device slot the domain (or a nested
/// domain on it) is installed in, then the wait, and frees page-table pages only after the wait completed.
/// </summary>
[IommuDomainOps(Paging = true)]
public sealed partial class VtdPagingDomain : IommuDomain, IVtdDomain
{
    private readonly IVtdIoPageTable _table;
    private readonly List<VtdNestedDomain> _children = new();

    internal VtdPagingDomain(VtdIommuDriver driver, VtdUnit unit, VtdPagingStage stage, bool nestParent, bool dirtyTracking = false)
        : base(IommuDomainType.Unmanaged, OpsTable, dirtyTracking)
    {
        Driver = driver;
        Stage = stage;
        NestParent = nestParent;
        PhysicalMemory memory = driver.Memory;
        ulong sizes = 1UL << 12;
        if (stage == VtdPagingStage.SecondStage)
        {
            Levels = unit.Levels;
            int width = System.Math.Min(12 + (9 * Levels), unit.MaxGuestAddressWidth);
            sizes |= (unit.Supports(unit.Cap, VtdCapRegister.SecondStage2MBit) ? 1UL << 21 : 0)
                | (unit.Supports(unit.Cap, VtdCapRegister.SecondStage1GBit) ? 1UL << 30 : 0);
            _table = new VtdPageTable<SecondStageFormat>(memory, Levels, 1UL << width, sizes);
            Geometry = new DomainGeometry(Iova.Zero, new Iova((1UL << width) - 1));
        }
        else
        {
            Levels = unit.Supports(unit.Cap, VtdCapRegister.FirstStage5LevelBit) && unit.MaxGuestAddressWidth >= 57 ? 5 : 4;
            int width = Levels == 5 ? 56 : 47; // the lower canonical half
            sizes |= (1UL << 21) | (unit.Supports(unit.Cap, VtdCapRegister.FirstStage1GBit) ? 1UL << 30 : 0);
            _table = new VtdPageTable<FirstStageFormat>(memory, Levels, 1UL << width, sizes);
            Geometry = new DomainGeometry(Iova.Zero, new Iova((1UL << width) - 1));
        }

        PageSizeBitmap = sizes;
    }

    /// <summary>The driver.</summary>
    public VtdIommuDriver Driver { get; }

    /// <summary>The table format.</summary>
    public VtdPagingStage Stage { get; }

    /// <summary>Allocated with IOMMU_HWPT_ALLOC_NEST_PARENT: nested domains may use it as their second stage.</summary>
    public bool NestParent { get; }

    /// <summary>Table depth (second stage: the unit's AGAW; first stage: 4 or 5).</summary>
    public int Levels { get; }

    /// <summary>The root table page.</summary>
    public PhysAddr Root => _table.Root;

    /// <summary>Table pages in use.</summary>
    public long TablePages => _table.TablePages;

    /// <summary>Leaf entries written by map since allocation (a 1 GiB map with 2 MiB pages writes 512).</summary>
    public long LeafEntriesWritten => _table.LeafEntriesWritten;

    /// <summary>Where the domain is installed and its DIDs.</summary>
    public VtdCacheTags Tags { get; } = new();

    /// <summary>Nested domains built on this one.</summary>
    public IReadOnlyList<VtdNestedDomain> Children => _children;

    internal void AddChild(VtdNestedDomain child) => _children.Add(child);

    internal void RemoveChild(VtdNestedDomain child) => _children.Remove(child);

    bool IVtdDomain.CanAttach(VtdUnit unit, bool pasid)
    {
        if (Stage == VtdPagingStage.FirstStage)
        {
            return unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.FirstStageBit)
                && (Levels == 4 || unit.Supports(unit.Cap, VtdCapRegister.FirstStage5LevelBit))
                && ((PageSizeBitmap & (1UL << 30)) == 0 || unit.Supports(unit.Cap, VtdCapRegister.FirstStage1GBit));
        }

        // A dirty-tracking domain needs SSADS wherever it goes (the kernel's paging_domain_compatible: EINVAL).
        if (HasDirtyOps && !SupportsDirtyTracking(unit))
        {
            return false;
        }

        return unit.SupportsLevels(Levels)
            && ((PageSizeBitmap & (1UL << 21)) == 0 || unit.Supports(unit.Cap, VtdCapRegister.SecondStage2MBit))
            && ((PageSizeBitmap & (1UL << 30)) == 0 || unit.Supports(unit.Cap, VtdCapRegister.SecondStage1GBit));
    }

    PasidEntry IVtdDomain.PasidEntryFor(VtdUnit unit, ushort domainId) => Stage == VtdPagingStage.SecondStage
        ? PasidEntry.SecondStage(Root, Levels - 2, domainId, unit.Supports(unit.Ecap, VtdEcapRegister.ScalablePageWalkCoherencyBit)).WithSecondStageAccessDirty(IsDirtyTracking)
        : PasidEntry.FirstStage(Root, Levels == 5, domainId, pageWalkSnoop: unit.Supports(unit.Ecap, VtdEcapRegister.ScalablePageWalkCoherencyBit));

    ContextEntry? IVtdDomain.LegacyContextFor(VtdUnit unit, ushort domainId) =>
        Stage == VtdPagingStage.SecondStage ? ContextEntry.Translate(Root, Levels - 2, domainId) : null;

    /// <summary>
    /// Invalidates [start, end] (<paramref name="all"/>: everything) wherever the domain (and any nested domain on it)
    /// is cached: per unit the IOTLB, then the device TLBs of the ATS devices installed there, then the wait.
    /// </summary>
    internal void FlushRange(ulong start, ulong endInclusive, bool leafOnly, bool all = false)
    {
        if (Stage == VtdPagingStage.SecondStage)
        {
            IReadOnlyList<VtdUnitTag> units = Tags.Units;
            for (int i = 0; i < units.Count; i++)
            {
                VtdInvalidation.SecondStage(units[i].Unit, units[i].DomainId, start, endInclusive, leafOnly);
                VtdInvalidation.DeviceTlbs(units[i].Unit, Tags.Attachments, start, endInclusive, all);
                units[i].Unit.Flush();
            }

            // Nested domains cache combined translations under their own DIDs (drivers.md §2.11), and their devices'
            // TLBs hold combined translations too, by stage-1 address: no way to tell which a stage-2 range touched, so
            // the whole device TLB goes (the kernel's CACHE_TAG_NESTING_DEVTLB).
            for (int c = 0; c < _children.Count; c++)
            {
                IReadOnlyList<VtdUnitTag> childUnits = _children[c].Tags.Units;
                for (int i = 0; i < childUnits.Count; i++)
                {
                    VtdInvalidation.SecondStage(childUnits[i].Unit, childUnits[i].DomainId, start, endInclusive, leafOnly);
                    VtdInvalidation.DeviceTlbs(childUnits[i].Unit, _children[c].Tags.Attachments, start, endInclusive, all: true);
                    childUnits[i].Unit.Flush();
                }
            }
        }
        else
        {
            IReadOnlyList<VtdAttachment> attachments = Tags.Attachments;
            (ulong address, int mask) = VtdInvalidation.DeviceTlbBlock(start, endInclusive, all);
            for (int i = 0; i < attachments.Count; i++)
            {
                VtdAttachment a = attachments[i];
                VtdInvalidation.FirstStage(a.Unit, a.DomainId, a.Pasid, start, endInclusive, leafOnly);
                VtdInvalidation.DeviceTlb(a.Unit, a.Device, a.Pasid, address, mask);
                a.Unit.Flush();
            }
        }
    }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(VtdPagingDomain domain, IommuDevice device, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, VtdDeviceData.RidPasid);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(VtdPagingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, pasid.Value);

    [DomainOp(DomainOpKind.MapPages)]
    private static Errno MapPages(VtdPagingDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped) =>
        domain._table.MapPages(iova, paddr, pageSize, pageCount, prot, out mapped);

    [DomainOp(DomainOpKind.UnmapPages)]
    private static ulong UnmapPages(VtdPagingDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather) =>
        domain._table.UnmapPages(iova, pageSize, pageCount, gather, domain);

    [DomainOp(DomainOpKind.IotlbSync)]
    private static void IotlbSync(VtdPagingDomain domain, IotlbGather gather)
    {
        if (!gather.IsEmpty)
        {
            domain.FlushRange(gather.Start, gather.End, leafOnly: gather.Freelist.Count == 0);
        }

        domain._table.FreeGatheredTables(gather);
    }

    [DomainOp(DomainOpKind.IotlbSyncMap)]
    private static Errno IotlbSyncMap(VtdPagingDomain domain, Iova iova, ulong size)
    {
        // Caching mode only: the hardware may hold not-present entries for the range just mapped.
        IReadOnlyList<VtdUnitTag> units = domain.Tags.Units;
        for (int i = 0; i < units.Count; i++)
        {
            if (units[i].Unit.CachingMode)
            {
                domain.FlushRange(iova.Value, iova.Value + size - 1, leafOnly: true);
                break;
            }
        }

        return Errno.None;
    }

    [DomainOp(DomainOpKind.FlushIotlbAll)]
    private static void FlushIotlbAll(VtdPagingDomain domain) => domain.FlushRange(0, domain._table.InputLimit - 1, leafOnly: false, all: true);

    [DomainOp(DomainOpKind.IovaToPhys)]
    private static bool IovaToPhys(VtdPagingDomain domain, Iova iova, out PhysAddr physical) => domain._table.IovaToPhys(iova, out physical);

    [DomainOp(DomainOpKind.EnforceCacheCoherency)]
    private static bool EnforceCacheCoherency(VtdPagingDomain domain) => domain.Stage == VtdPagingStage.SecondStage;

    [DomainOp(DomainOpKind.Free)]
    private static void Free(VtdPagingDomain domain) => domain._table.Destroy();
}
