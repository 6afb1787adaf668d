using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// Installing domains into a device's context entry or PASID table, and tearing them down, with the invalidation
/// sequences of drivers.md §2.11: after changing a present entry, the PASID cache (or context cache) for the old DID,
/// then the IOTLB of the old DID (DSI for second-stage/nested, PASID-based for first-stage/pass-through), then the
/// device TLB of an ATS device (the non-PASID form for RID_PASID). A new entry over a not-present one needs no
/// invalidation unless caching mode is on. In legacy mode ATS lives in the context entry (TT = 01b), so the driver
/// enables ATS on the device when it installs such an entry and disables it otherwise; in scalable mode DTE and ATS
/// are set up at probe.
/// </summary>
internal static class VtdAttach
{
    public static Errno Install(IommuDomain domain, IVtdDomain vtd, IommuDevice device, uint pasid)
    {
        var data = (VtdDeviceData)device.DriverData!;
        VtdUnit unit = data.Unit;
        if (!unit.ScalableMode && pasid != VtdDeviceData.RidPasid)
        {
            return Errno.EOPNOTSUPP;
        }

        if (!vtd.CanAttach(unit, pasid != VtdDeviceData.RidPasid))
        {
            return Errno.EINVAL;
        }

        ushort did = DomainIdAllocator.PassThroughDomainId;
        if (vtd.Tags is { } tags)
        {
            Errno reserve = tags.Reserve(unit, out did);
            if (reserve != Errno.None)
            {
                return reserve;
            }
        }

        if (unit.ScalableMode)
        {
            PasidEntry old = data.ReadPasidEntry(pasid);
            data.WritePasidEntry(pasid, vtd.PasidEntryFor(unit, did));
            if (old.Present)
            {
                FlushPasidEntry(unit, old, pasid, data);
            }
            else if (unit.CachingMode)
            {
                FlushPasidEntry(unit, vtd.PasidEntryFor(unit, did), pasid, null);
            }
        }
        else
        {
            if (vtd.LegacyContextFor(unit, did) is not { } context)
            {
                vtd.Tags?.Unreserve(unit);
                return Errno.EINVAL;
            }

            if (data.AtsSupported && context.TranslationType == ContextTranslationType.Untranslated)
            {
                context = context.WithTranslationType(ContextTranslationType.UntranslatedAndAts);
            }

            PhysAddr address = unit.ContextEntryAddress(device.Rid);
            var old = new ContextEntry(unit.Hardware.Memory.ReadU64(address), unit.Hardware.Memory.ReadU64(new PhysAddr(address.Value + 8)));
            WriteContext(unit, address, context);
            if (old.Present)
            {
                FlushLegacyContext(unit, device.Rid, old.DomainId, data);
            }
            else if (unit.CachingMode)
            {
                FlushLegacyContext(unit, device.Rid, did, null);
            }

            if (context.TranslationType == ContextTranslationType.UntranslatedAndAts)
            {
                data.EnableAts();
            }
            else
            {
                data.DisableAts();
            }
        }

        unit.Flush();
        vtd.Tags?.Add(data, pasid, unit, did);
        Forget(data, pasid);
        data.SetDomain(pasid, domain);
        return Errno.None;
    }

    /// <summary>Blocks the slot: clears the PASID entry (scalable) or the context entry (legacy) and invalidates.</summary>
    public static Errno Block(IommuDomain blocked, IommuDevice device, uint pasid)
    {
        var data = (VtdDeviceData)device.DriverData!;
        VtdUnit unit = data.Unit;
        if (unit.ScalableMode)
        {
            PasidEntry old = data.ReadPasidEntry(pasid);
            if (old.Present)
            {
                data.ClearPasidEntry(pasid);
                FlushPasidEntry(unit, old, pasid, data);
                unit.Flush();
            }
            else if (old.FaultProcessingDisable)
            {
                data.ClearPasidEntry(pasid); // an SVA entry torn down at mm release kept only FPD: clear it for good
            }
        }
        else if (pasid == VtdDeviceData.RidPasid)
        {
            PhysAddr address = unit.ContextEntryAddress(device.Rid);
            var old = new ContextEntry(unit.Hardware.Memory.ReadU64(address), unit.Hardware.Memory.ReadU64(new PhysAddr(address.Value + 8)));
            if (old.Present)
            {
                WriteContext(unit, address, default);
                FlushLegacyContext(unit, device.Rid, old.DomainId, data);
                unit.Flush();
            }

            data.DisableAts();
        }
        else
        {
            return Errno.EOPNOTSUPP;
        }

        Forget(data, pasid);
        data.SetDomain(pasid, blocked);
        return Errno.None;
    }

    private static void Forget(VtdDeviceData data, uint pasid)
    {
        if (data.DomainAt(pasid) is IVtdDomain { Tags: { } oldTags })
        {
            oldTags.Remove(data, pasid);
        }
    }

    // Teardown of a present PASID entry (intel_pasid_tear_down_entry): PASID cache, IOTLB, then the whole device TLB
    // of the slot when the device has ATS on (none for a caching-mode flush of a new entry: device == null).
    private static void FlushPasidEntry(VtdUnit unit, in PasidEntry old, uint pasid, VtdDeviceData? device)
    {
        unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCachePasidGranularity, old.DomainId, pasid));
        if (old.Pgtt is PasidGranularTranslationType.FirstStage or PasidGranularTranslationType.PassThrough)
        {
            unit.Submit(InvalidationDescriptor.PasidIotlbAll(old.DomainId, pasid));
        }
        else
        {
            unit.Submit(InvalidationDescriptor.IotlbDomain(old.DomainId));
        }

        if (device is not null)
        {
            VtdInvalidation.DeviceTlb(unit, device, pasid, 0, VtdInvalidation.AllPagesMask);
        }
    }

    // domain_context_clear_one: context cache, IOTLB DSI, then the whole device TLB when ATS is on.
    private static void FlushLegacyContext(VtdUnit unit, Rid rid, ushort oldDomainId, VtdDeviceData? device)
    {
        unit.Submit(InvalidationDescriptor.ContextDevice(oldDomainId, rid.Bdf));
        unit.Submit(InvalidationDescriptor.IotlbDomain(oldDomainId));
        if (device is not null)
        {
            VtdInvalidation.DeviceTlb(unit, device, VtdDeviceData.RidPasid, 0, VtdInvalidation.AllPagesMask);
        }
    }

    // qw1 first, then qw0 with P: the hardware never sees a present entry with the old DID and the new table.
    private static void WriteContext(VtdUnit unit, PhysAddr address, in ContextEntry entry)
    {
        var memory = unit.Hardware.Memory;
        if (entry.Present)
        {
            memory.WriteU64(new PhysAddr(address.Value + 8), entry.High);
            memory.WriteU64(address, entry.Low);
        }
        else
        {
            memory.WriteU64(address, entry.Low);
            memory.WriteU64(new PhysAddr(address.Value + 8), entry.High);
        }
    }
}
