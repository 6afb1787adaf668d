using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// A VT-d SVA domain (<c>intel_svm_domain_alloc</c>): no page table of its own — its PASID entries are first-stage
/// only (PGTT 001b) with FSPTPTR = the process's <see cref="CpuPageTable"/> root, so the hardware walks the CPU's own
/// x86-64 table. Like Linux it is installed under <c>FLPT_DEFAULT_DID</c> (1) on every unit, its IOTLB entries being
/// told apart by PASID; SRE and WPE stay clear (user-mode SVA only), FSPM selects 4-level paging, PWSNP follows
/// ECAP.SMPWC. It subscribes to the address space's MMU notifier: an invalidation becomes PASID-based IOTLB
/// invalidation of the range for every (unit, PASID) it is installed in, followed by a wait; release (process exit)
/// tears every PASID entry down to "not present, faults ignored" before the CPU table is freed.
/// </summary>
[IommuDomainOps]
public sealed partial class VtdSvaDomain : IommuDomain, IVtdDomain, IMmuNotifier
{
    internal VtdSvaDomain(VtdIommuDriver driver, UserAddressSpace mm, CpuPageTable table)
        : base(IommuDomainType.Sva, OpsTable)
    {
        Driver = driver;
        Mm = mm;
        Root = table.Root;
        mm.RegisterMmuNotifier(this);
    }

    /// <summary>The driver.</summary>
    public VtdIommuDriver Driver { get; }

    /// <summary>The shared address space.</summary>
    public UserAddressSpace Mm { get; }

    /// <summary>The CPU page table root written into FSPTPTR.</summary>
    public PhysAddr Root { get; }

    /// <summary>Where the domain is installed; the DID is <see cref="DomainIdAllocator.PassThroughDomainId"/> (FLPT_DEFAULT_DID) everywhere.</summary>
    public VtdCacheTags Tags { get; } = new(DomainIdAllocator.PassThroughDomainId);

    /// <summary>Invalidations received from the MMU notifier.</summary>
    public long NotifierInvalidations { get; private set; }

    /// <summary>Whether the address space was released (the process exited): the PASID entries are torn down.</summary>
    public bool Released { get; private set; }

    /// <summary>
    /// Whether a unit can share a CPU page table (the kernel's <c>VTD_FLAG_SVM_CAPABLE</c>): scalable mode with PASID
    /// support and, because the simulated x86-64 CPU has 1 GiB pages, CAP.FS1GP. The CPU uses 4-level paging, so FS5LP
    /// is not needed. First-stage support itself (ECAP.FSTS) is checked when a PASID entry is set up.
    /// </summary>
    public static bool UnitSupportsSva(VtdUnit unit)
    {
        System.ArgumentNullException.ThrowIfNull(unit);
        return unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.PasidBit) && unit.Supports(unit.Cap, VtdCapRegister.FirstStage1GBit);
    }

    bool IVtdDomain.CanAttach(VtdUnit unit, bool pasid) =>
        pasid && !Released && unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.FirstStageBit);

    PasidEntry IVtdDomain.PasidEntryFor(VtdUnit unit, ushort domainId) =>
        PasidEntry.FirstStage(Root, fiveLevel: false, domainId, supervisor: false, writeProtect: false,
            pageWalkSnoop: unit.Supports(unit.Ecap, VtdEcapRegister.ScalablePageWalkCoherencyBit));

    ContextEntry? IVtdDomain.LegacyContextFor(VtdUnit unit, ushort domainId) => null;

    void IMmuNotifier.InvalidateRange(UserAddressSpace mm, ulong start, ulong end)
    {
        // arch_invalidate_secondary_tlbs: [start, end) in mm terms, an inclusive end for the IOMMU; all leaves and
        // paging-structure caches (IH 0), since the CPU side may have freed table pages.
        NotifierInvalidations++;
        IReadOnlyList<VtdAttachment> attachments = Tags.Attachments;
        for (int i = 0; i < attachments.Count; i++)
        {
            VtdAttachment a = attachments[i];
            bool all = start == 0 && end == ulong.MaxValue;
            if (all)
            {
                a.Unit.Submit(InvalidationDescriptor.PasidIotlbAll(a.DomainId, a.Pasid));
            }
            else
            {
                VtdInvalidation.FirstStage(a.Unit, a.DomainId, a.Pasid, start, end - 1, leafOnly: false);
            }

            // Then the device's own TLB (an ATS device caches SVA translations too), then the wait: the IOTLB goes
            // first so that a translation request racing the flush cannot refill the device TLB from a stale entry.
            (ulong address, int mask) = VtdInvalidation.DeviceTlbBlock(start, end - 1, all);
            VtdInvalidation.DeviceTlb(a.Unit, a.Device, a.Pasid, address, mask);
            a.Unit.Flush();
        }
    }

    void IMmuNotifier.Release(UserAddressSpace mm)
    {
        // intel_mm_release: the CPU table is about to be freed, so no PASID entry may point at it any more. Each one
        // becomes not present with FPD set (intel_pasid_tear_down_entry with fault_ignore): the device's later DMA
        // faults silently until the driver unbinds.
        Released = true;
        IReadOnlyList<VtdAttachment> attachments = Tags.Attachments;
        for (int i = 0; i < attachments.Count; i++)
        {
            VtdAttachment a = attachments[i];
            a.Device.ClearPasidEntry(a.Pasid);
            a.Device.WritePasidEntry(a.Pasid, new PasidEntry(PasidEntry.FaultProcessingDisableBit, 0, 0));
            a.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCachePasidGranularity, a.DomainId, a.Pasid));
            a.Unit.Submit(InvalidationDescriptor.PasidIotlbAll(a.DomainId, a.Pasid));
            a.Unit.Flush();
        }
    }

    // The kernel's SVA domain ops have no attach_dev: an SVA domain only ever translates a PASID. The generator wants
    // every domain to have one, so this one refuses as the core does for an absent op.
    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(VtdSvaDomain domain, IommuDevice device, IommuDomain? old) => Errno.EINVAL;

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(VtdSvaDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, pasid.Value);

    [DomainOp(DomainOpKind.Free)]
    private static void Free(VtdSvaDomain domain) => domain.Mm.UnregisterMmuNotifier(domain);
}
