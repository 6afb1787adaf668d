using System;

namespace Ioasid.Core.Iommufd;

/// <summary>The flags of IOMMU_HWPT_ALLOC (<c>enum iommufd_hwpt_alloc_flags</c>), with the uAPI's values.</summary>
[Flags]
public enum HwptAllocFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>NEST_PARENT: the paging HWPT may be the stage-2 parent of nested HWPTs.</summary>
    NestParent = 1 << 0,

    /// <summary>DIRTY_TRACKING: the domain can log DMA writes (needs the device's dirty capability).</summary>
    DirtyTracking = 1 << 1,

    /// <summary>FAULT_ID_VALID: <c>fault_id</c> names a fault queue for I/O page faults.</summary>
    FaultIdValid = 1 << 2,

    /// <summary>PASID: the HWPT may be attached to PASIDs (<c>pasid_compat</c>).</summary>
    Pasid = 1 << 3,
}
