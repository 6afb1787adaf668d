using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

// Second-stage dirty tracking (the kernel's intel_dirty_ops): SSADE in the PASID entry of every slot the domain — or
// a nested domain on it — is installed in, and a walk over the table that reads and clears the leaves' D bits.
public sealed partial class VtdPagingDomain
{
    /// <summary>Whether the hardware is logging DMA writes in the leaves' D bits (SSADE set where the domain is installed).</summary>
    public bool IsDirtyTracking { get; private set; }

    /// <summary>Whether <paramref name="unit"/> can track dirty pages: scalable mode with ECAP.SSADS (the kernel's <c>ssads_supported</c>).</summary>
    public static bool SupportsDirtyTracking(VtdUnit unit)
    {
        System.ArgumentNullException.ThrowIfNull(unit);
        return unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.SecondStageAccessDirtyBit);
    }

    [DomainOp(DomainOpKind.SetDirtyTracking)]
    private static Errno SetDirtyTracking(VtdPagingDomain domain, bool enable)
    {
        if (!domain.HasDirtyOps)
        {
            return Errno.EINVAL;
        }

        if (domain.IsDirtyTracking == enable)
        {
            return Errno.None;
        }

        // Only second-stage and nested entries carry SSADE (intel_pasid_setup_dirty_tracking: EOPNOTSUPP otherwise);
        // checked for every slot before anything changes.
        if (!AllSlotsAccept(domain.Tags.Attachments) || !domain._children.TrueForAll(c => AllSlotsAccept(c.Tags.Attachments)))
        {
            return Errno.EOPNOTSUPP;
        }

        domain.IsDirtyTracking = enable; // slots installed from now on get SSADE from PasidEntryFor
        Reprogram(domain.Tags.Attachments, enable);
        foreach (VtdNestedDomain child in domain._children)
        {
            Reprogram(child.Tags.Attachments, enable);
        }

        return Errno.None;
    }

    [DomainOp(DomainOpKind.ReadAndClearDirty)]
    private static Errno ReadAndClearDirty(VtdPagingDomain domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty)
    {
        // As the kernel: reading needs tracking on; a clear-only pass (before tracking starts) is always allowed.
        if (!domain.IsDirtyTracking && !dirty.IsClearOnly)
        {
            return Errno.EINVAL;
        }

        domain._table.ReadAndClearDirty(iova, size, SlPte.Dirty, noClear, dirty);
        return Errno.None;
    }

    private static bool AllSlotsAccept(IReadOnlyList<VtdAttachment> attachments)
    {
        for (int i = 0; i < attachments.Count; i++)
        {
            PasidEntry entry = attachments[i].Device.ReadPasidEntry(attachments[i].Pasid);
            if (!entry.Present || entry.Pgtt is not (PasidGranularTranslationType.SecondStage or PasidGranularTranslationType.Nested))
            {
                return false;
            }
        }

        return true;
    }

    // Flips SSADE in each slot, then (VT-d spec's guidance for a changed PASID entry) the PASID-selective PASID-cache
    // invalidation, a domain-selective IOTLB invalidation for the slot's DID and, for an ATS device, the slot's whole
    // device TLB (intel_pasid_setup_dirty_tracking): a writable translation cached there before tracking started
    // would let the device write without the walk that sets D. Then waits.
    private static void Reprogram(IReadOnlyList<VtdAttachment> attachments, bool enable)
    {
        for (int i = 0; i < attachments.Count; i++)
        {
            VtdAttachment a = attachments[i];
            PasidEntry entry = a.Device.ReadPasidEntry(a.Pasid);
            if (entry.SecondStageAccessDirty == enable)
            {
                continue;
            }

            a.Device.WritePasidEntry(a.Pasid, entry.WithSecondStageAccessDirty(enable));
            a.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCachePasidGranularity, a.DomainId, a.Pasid));
            a.Unit.Submit(InvalidationDescriptor.IotlbDomain(a.DomainId));
            VtdInvalidation.DeviceTlb(a.Unit, a.Device, a.Pasid, 0, VtdInvalidation.AllPagesMask);
            a.Unit.Flush();
        }
    }
}
