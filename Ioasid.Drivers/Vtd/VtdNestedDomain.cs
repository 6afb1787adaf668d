using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// A nested domain (<c>domain_alloc_nested</c> with IOMMU_HWPT_DATA_VTD_S1): the user's first-stage table, in user
/// (guest-physical) memory, walked through the second stage of its nest parent. It is installed as a PASID entry with
/// PGTT 011b under its own DID; the user invalidates its stage-1 caches through <c>cache_invalidate_user</c>, which
/// becomes PASID-based IOTLB descriptors for every slot it is installed in, each followed by a device-TLB invalidation
/// when the slot's device has ATS on (the device TLB is flushed automatically, as the uAPI says).
/// </summary>
[IommuDomainOps]
public sealed partial class VtdNestedDomain : IommuDomain, IVtdDomain
{
    internal VtdNestedDomain(VtdPagingDomain parent, VtdS1Data s1)
        : base(IommuDomainType.Nested, OpsTable)
    {
        Parent = parent;
        S1 = s1;
    }

    /// <summary>The nest parent providing the second stage.</summary>
    public VtdPagingDomain Parent { get; }

    /// <summary>The user's stage-1 configuration.</summary>
    public VtdS1Data S1 { get; }

    /// <summary>Where the domain is installed and its DIDs.</summary>
    public VtdCacheTags Tags { get; } = new();

    /// <summary>Descriptors sent by <c>cache_invalidate_user</c>.</summary>
    public long UserInvalidations { get; private set; }

    bool IVtdDomain.CanAttach(VtdUnit unit, bool pasid) =>
        unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.NestedBit) && unit.Supports(unit.Ecap, VtdEcapRegister.FirstStageBit)
        && (S1.AddressWidth == 48 || unit.Supports(unit.Cap, VtdCapRegister.FirstStage5LevelBit))
        && ((IVtdDomain)Parent).CanAttach(unit, pasid);

    PasidEntry IVtdDomain.PasidEntryFor(VtdUnit unit, ushort domainId) =>
        PasidEntry.Nested(new PhysAddr(S1.PageTableAddress), S1.AddressWidth == 57, Parent.Root, Parent.Levels - 2, domainId,
            (S1.Flags & VtdS1Data.SupervisorRequests) != 0, (S1.Flags & VtdS1Data.WriteProtect) != 0, (S1.Flags & VtdS1Data.ExtendedAccessed) != 0)
        .WithSecondStageAccessDirty(Parent.IsDirtyTracking); // SSADE when the parent logs dirty pages

    ContextEntry? IVtdDomain.LegacyContextFor(VtdUnit unit, ushort domainId) => null;

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(VtdNestedDomain domain, IommuDevice device, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, VtdDeviceData.RidPasid);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(VtdNestedDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, pasid.Value);

    [DomainOp(DomainOpKind.CacheInvalidateUser)]
    private static Errno CacheInvalidateUser(VtdNestedDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled)
    {
        handled = 0;
        if (dataType != VtdS1Invalidation.DataType)
        {
            return Errno.EINVAL;
        }

        if (entries.IsEmpty)
        {
            return Errno.None; // entry_num 0: the caller only asks whether the type is supported
        }

        if (entryLength < VtdS1Invalidation.Size)
        {
            return Errno.EINVAL;
        }

        uint count = (uint)(entries.Length / (int)entryLength);
        for (uint i = 0; i < count; i++)
        {
            Errno errno = VtdS1Invalidation.TryParse(entries.Slice((int)(i * entryLength), (int)entryLength), out VtdS1Invalidation inv);
            if (errno != Errno.None)
            {
                return errno;
            }

            IReadOnlyList<VtdAttachment> attachments = domain.Tags.Attachments;
            for (int a = 0; a < attachments.Count; a++)
            {
                VtdAttachment at = attachments[a];
                ulong pages = inv.Pages;
                if (inv.All || pages > (ulong.MaxValue - inv.Address) >> 12)
                {
                    at.Unit.Submit(InvalidationDescriptor.PasidIotlbAll(at.DomainId, at.Pasid));
                    VtdInvalidation.DeviceTlb(at.Unit, at.Device, at.Pasid, 0, VtdInvalidation.AllPagesMask);
                }
                else
                {
                    ulong end = inv.Address + (pages << 12) - 1;
                    VtdInvalidation.FirstStage(at.Unit, at.DomainId, at.Pasid, inv.Address, end, (inv.Flags & VtdS1Invalidation.Leaf) != 0);
                    (ulong address, int mask) = AddressMath.AlignedPageBlock(inv.Address, end);
                    VtdInvalidation.DeviceTlb(at.Unit, at.Device, at.Pasid, address, mask);
                }

                at.Unit.Flush();
                domain.UserInvalidations++;
            }

            handled++;
        }

        return Errno.None;
    }

    [DomainOp(DomainOpKind.Free)]
    private static void Free(VtdNestedDomain domain) => domain.Parent.RemoveChild(domain);
}
