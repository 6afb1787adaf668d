using System.Runtime.CompilerServices;

namespace Ioasid.Drivers.Hardware.Vtd;

// ATS (drivers.md §2.4, §2.11): DMA from an endpoint with ATS enabled goes through its device TLB. A hit is a
// translated request the unit lets through when the context entry allows ATS (legacy TT = 01b, scalable-mode DTE);
// a miss is a translation request the unit answers through its IOTLB and tables as for any DMA, and the endpoint
// caches the answer. Device-TLB invalidation descriptors are forwarded to the endpoint as ATS invalidation requests.
public sealed partial class VtdIommuHardware
{
    // Out of line, so that the hot path of requesters without ATS stays as small as before.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateForAtsEndpoint(in DmaRequest request, in ActiveConfig active, DeviceTlb deviceTlb)
    {
        ref readonly VtdTranslationConfig config = ref active.Config;
        // Both translated requests and translation requests are blocked by a context entry without ATS: fault Dh
        // (the model uses it in scalable mode too, as QEMU reuses the legacy codes).
        if (!config.AtsAllowed)
        {
            return Fault(request, VtdFaultReason.BlockedByTranslationType, config.FaultProcessingDisabled);
        }

        if (deviceTlb.TryLookup(request, out Translation cached))
        {
            if (StaleChecker.Enabled)
            {
                CheckDeviceTlbHit(request, config, cached);
            }

            return DeviceTlb.TranslatedRequest(cached, request.Iova, _memory);
        }

        TranslationResult result;
        Translation translation;
        if (config.Kind == VtdTranslationKind.PassThrough)
        {
            result = PassThrough(request, config);
            translation = Translation.IdentityPage(request.Iova.Value);
        }
        else
        {
            result = TranslateThroughTables(request, active, out translation);
        }

        if (result.IsSuccess)
        {
            deviceTlb.Fill(request, translation);
        }

        return result;
    }

    // Out of line, as CheckStale: the walker holds a reference. A pass-through configuration walks to the identity
    // page (VtdPageWalker.Walk), so one walker serves every kind.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDeviceTlbHit(in DmaRequest request, in VtdTranslationConfig config, in Translation cached)
    {
        var walker = new VtdStaleWalker(_walker, config);
        StaleChecker.CheckDeviceTlbHit(request, cached, ref walker);
    }

    // Type 3: the device TLB of SID, without PASID — which in ATS also drops the range's PASID-tagged entries.
    private bool InvalidateDeviceTlb(in InvalidationDescriptor d)
    {
        DeviceTlb.DecodeAtsRange(d.Q1, (d.Q1 & InvalidationDescriptor.DeviceTlbSizeBit) != 0, out Iova start, out ulong size);
        Ats.Find(new Rid(d.SourceId))?.Invalidate(null, start, size);
        return true;
    }

    // Type 8: the device TLB of SID for one PASID. G asks for global translations of every PASID too; the modelled
    // completions never mark a translation global, so it drops nothing more.
    private bool InvalidatePasidDeviceTlb(in InvalidationDescriptor d)
    {
        DeviceTlb.DecodeAtsRange(d.Q1, (d.Q1 & InvalidationDescriptor.PasidDeviceTlbSizeBit) != 0, out Iova start, out ulong size);
        Ats.Find(new Rid(d.SourceId))?.Invalidate(new Pasid(d.Pasid), start, size);
        return true;
    }
}
