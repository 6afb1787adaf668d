using System.Collections.Generic;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// Range invalidation as the kernel's VT-d driver computes it (<c>calculate_psi_aligned_address</c>): the smallest
/// naturally aligned power-of-two block of pages covering [start, end], as (address, AM). A mask above CAP.MAMV falls
/// back to a domain-selective (or all-in-PASID) invalidation. Device-TLB invalidations of ATS devices follow the IOTLB
/// ones with the same block, encoded ATS-style (<c>qi_flush_dev_iotlb</c>, <c>qi_flush_dev_iotlb_pasid</c>).
/// </summary>
internal static class VtdInvalidation
{
    /// <summary>The address mask of "everything" in a device-TLB invalidation (the kernel's MAX_AGAW_PFN_WIDTH).</summary>
    public const int AllPagesMask = 52;

    /// <summary>The block a device-TLB invalidation of [start, end] covers, or everything when <paramref name="all"/>.</summary>
    public static (ulong Address, int Mask) DeviceTlbBlock(ulong start, ulong endInclusive, bool all) =>
        all ? (0UL, AllPagesMask) : AddressMath.AlignedPageBlock(start, endInclusive);

    /// <summary>Queues the second-stage invalidation of [start, end] for DID on a unit (PSI or DSI).</summary>
    public static void SecondStage(VtdUnit unit, ushort domainId, ulong start, ulong endInclusive, bool leafOnly)
    {
        (ulong address, int mask) = AddressMath.AlignedPageBlock(start, endInclusive);
        bool psi = unit.Supports(unit.Cap, VtdCapRegister.PageSelectiveInvalidationBit)
            && mask <= VtdCapRegister.Field(unit.Cap, VtdCapRegister.MaxAddressMaskShift, 6);
        unit.Submit(psi ? InvalidationDescriptor.IotlbPage(domainId, address, mask, leafOnly) : InvalidationDescriptor.IotlbDomain(domainId));
    }

    /// <summary>
    /// The <c>qw1</c> address field and S bit of a device-TLB invalidation of 2^<paramref name="mask"/> pages at
    /// <paramref name="address"/>: with a mask, the address bits below the size's top bit are set, so that the lowest
    /// clear bit at or above bit 12 gives the size (bits 12..62 set with mask 52: everything).
    /// </summary>
    public static (ulong Address, bool SizeBit) DeviceTlbRange(ulong address, int mask)
    {
        if (mask == 0)
        {
            return (address & ~0xFFFUL, false);
        }

        int m = System.Math.Min(mask, AllPagesMask);
        return ((address | ((1UL << (11 + m)) - 1)) & ~0xFFFUL, true);
    }

    /// <summary>
    /// Queues the device-TLB invalidation of 2^<paramref name="mask"/> pages at <paramref name="address"/> for
    /// <paramref name="device"/>'s <paramref name="pasid"/> slot when the device has ATS enabled: the non-PASID form for
    /// RID_PASID, the PASID-based form otherwise. PFSID and queue depth are 0 (no ECAP.DIT; a device reporting the
    /// maximum depth).
    /// </summary>
    public static void DeviceTlb(VtdUnit unit, VtdDeviceData device, uint pasid, ulong address, int mask)
    {
        if (!device.AtsEnabled)
        {
            return;
        }

        (ulong field, bool sizeBit) = DeviceTlbRange(address, mask);
        ushort sid = device.Device.Rid.Bdf;
        unit.Submit(pasid == VtdDeviceData.RidPasid
            ? InvalidationDescriptor.DeviceTlb(sid, 0, 0, field, sizeBit)
            : InvalidationDescriptor.PasidDeviceTlb(sid, 0, pasid, field, sizeBit, allPasids: false));
    }

    /// <summary>Queues device-TLB invalidations of [start, end] (or everything) for every ATS device slot on <paramref name="unit"/>.</summary>
    public static void DeviceTlbs(VtdUnit unit, IReadOnlyList<VtdAttachment> attachments, ulong start, ulong endInclusive, bool all)
    {
        (ulong address, int mask) = DeviceTlbBlock(start, endInclusive, all);
        for (int i = 0; i < attachments.Count; i++)
        {
            VtdAttachment a = attachments[i];
            if (a.Unit == unit)
            {
                DeviceTlb(unit, a.Device, a.Pasid, address, mask);
            }
        }
    }

    /// <summary>Queues the first-stage (PASID-based) invalidation of [start, end] for (DID, PASID).</summary>
    public static void FirstStage(VtdUnit unit, ushort domainId, uint pasid, ulong start, ulong endInclusive, bool leafOnly)
    {
        (ulong address, int mask) = AddressMath.AlignedPageBlock(start, endInclusive);
        bool psi = mask <= VtdCapRegister.Field(unit.Cap, VtdCapRegister.MaxAddressMaskShift, 6);
        unit.Submit(psi ? InvalidationDescriptor.PasidIotlbPage(domainId, pasid, address, mask, leafOnly) : InvalidationDescriptor.PasidIotlbAll(domainId, pasid));
    }
}
