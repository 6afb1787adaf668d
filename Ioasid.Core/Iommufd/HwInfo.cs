using System;

namespace Ioasid.Core.Iommufd;

/// <summary>The <c>out_capabilities</c> bits of IOMMU_GET_HW_INFO (<c>enum iommufd_hw_capabilities</c>).</summary>
[Flags]
public enum HwInfoCapabilities : ulong
{
    /// <summary>No capability.</summary>
    None = 0,

    /// <summary>DIRTY_TRACKING: the device's IOMMU can log DMA writes.</summary>
    DirtyTracking = 1 << 0,

    /// <summary>PCI_PASID_EXEC: the device's PASID capability has Execute permission.</summary>
    PciPasidExec = 1 << 1,

    /// <summary>PCI_PASID_PRIV: the device's PASID capability has Privileged mode.</summary>
    PciPasidPriv = 1 << 2,
}

/// <summary>What IOMMU_GET_HW_INFO reports for a device.</summary>
/// <param name="Type">The blob's type (<c>enum iommu_hw_info_type</c>: NONE 0, INTEL_VTD 1, ARM_SMMUV3 2).</param>
/// <param name="Data">The driver's blob (e.g. <c>iommu_hw_info_vtd</c>); empty for NONE.</param>
/// <param name="Capabilities">The generic capabilities.</param>
/// <param name="MaxPasidLog2">log2 of the device's PASID count, 0 without PASID support.</param>
public sealed record HwInfo(uint Type, byte[] Data, HwInfoCapabilities Capabilities, byte MaxPasidLog2);
