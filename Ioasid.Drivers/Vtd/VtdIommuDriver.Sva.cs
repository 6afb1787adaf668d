using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Vtd;

// domain_alloc_sva: SVA domains sharing a process's CPU page table.
public sealed partial class VtdIommuDriver
{
    [IommuOp(IommuOpKind.DomainAllocSva)]
    private IommuDomain DomainAllocSva(IommuDevice device, UserAddressSpace mm)
    {
        VtdUnit unit = DataOf(device).Unit;
        if (!VtdSvaDomain.UnitSupportsSva(unit))
        {
            // intel_iommu_sva_supported: a unit without VTD_FLAG_SVM_CAPABLE.
            throw new IoasidException(Errno.ENODEV, $"{unit} cannot share CPU page tables (needs scalable mode, PASID and FS1GP)");
        }

        return new VtdSvaDomain(this, mm, mm.EnsureCpuPageTable());
    }
}
