namespace Ioasid.Core.Uapi;

/// <summary>Flag and enum values of the iommufd and VFIO uAPI that the command layer checks.</summary>
public static class UapiConstants
{
    /// <summary>IOMMU_IOAS_MAP_FIXED_IOVA | WRITEABLE | READABLE: every flag MAP, MAP_FILE and COPY know.</summary>
    public const uint IoasMapValidFlags = 1 | 2 | 4;

    /// <summary>IOMMU_OPTION_RLIMIT_MODE.</summary>
    public const uint OptionRlimitMode = 0;

    /// <summary>IOMMU_OPTION_HUGE_PAGES.</summary>
    public const uint OptionHugePages = 1;

    /// <summary>IOMMU_OPTION_OP_SET.</summary>
    public const ushort OptionOpSet = 0;

    /// <summary>IOMMU_OPTION_OP_GET.</summary>
    public const ushort OptionOpGet = 1;

    /// <summary>IOMMU_VFIO_IOAS_GET.</summary>
    public const ushort VfioIoasGet = 0;

    /// <summary>IOMMU_VFIO_IOAS_SET.</summary>
    public const ushort VfioIoasSet = 1;

    /// <summary>IOMMU_VFIO_IOAS_CLEAR.</summary>
    public const ushort VfioIoasClear = 2;

    /// <summary>IOMMU_HWPT_ALLOC_NEST_PARENT.</summary>
    public const uint HwptAllocNestParent = 1;

    /// <summary>IOMMU_HWPT_ALLOC_DIRTY_TRACKING.</summary>
    public const uint HwptAllocDirtyTracking = 2;

    /// <summary>IOMMU_HWPT_FAULT_ID_VALID.</summary>
    public const uint HwptFaultIdValid = 4;

    /// <summary>IOMMU_HWPT_ALLOC_PASID.</summary>
    public const uint HwptAllocPasid = 8;

    /// <summary>IOMMU_HWPT_DATA_NONE.</summary>
    public const uint HwptDataNone = 0;

    /// <summary>IOMMU_HW_INFO_FLAG_INPUT_TYPE.</summary>
    public const uint HwInfoFlagInputType = 1;

    /// <summary>IOMMU_HW_INFO_TYPE_NONE / DEFAULT.</summary>
    public const uint HwInfoTypeNone = 0;

    /// <summary>IOMMU_HW_CAP_DIRTY_TRACKING.</summary>
    public const ulong HwCapDirtyTracking = 1;

    /// <summary>IOMMU_HWPT_DIRTY_TRACKING_ENABLE.</summary>
    public const uint HwptDirtyTrackingEnable = 1;

    /// <summary>IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR.</summary>
    public const uint HwptGetDirtyBitmapNoClear = 1;

    /// <summary>VFIO_API_VERSION.</summary>
    public const int VfioApiVersion = 0;

    /// <summary>VFIO_TYPE1_IOMMU.</summary>
    public const ulong VfioType1Iommu = 1;

    /// <summary>VFIO_TYPE1v2_IOMMU.</summary>
    public const ulong VfioType1v2Iommu = 3;

    /// <summary>VFIO_DMA_CC_IOMMU.</summary>
    public const ulong VfioDmaCcIommu = 4;

    /// <summary>VFIO_TYPE1_NESTING_IOMMU (obsolete; always 0).</summary>
    public const ulong VfioType1NestingIommu = 6;

    /// <summary>VFIO_NOIOMMU_IOMMU.</summary>
    public const ulong VfioNoIommu = 8;

    /// <summary>VFIO_UNMAP_ALL.</summary>
    public const ulong VfioUnmapAll = 9;

    /// <summary>VFIO_UPDATE_VADDR (not supported; always 0).</summary>
    public const ulong VfioUpdateVaddr = 10;

    /// <summary>VFIO_DMA_MAP_FLAG_READ.</summary>
    public const uint VfioDmaMapFlagRead = 1;

    /// <summary>VFIO_DMA_MAP_FLAG_WRITE.</summary>
    public const uint VfioDmaMapFlagWrite = 2;

    /// <summary>VFIO_DMA_UNMAP_FLAG_ALL.</summary>
    public const uint VfioDmaUnmapFlagAll = 2;

    /// <summary>VFIO_IOMMU_INFO_PGSIZES.</summary>
    public const uint VfioIommuInfoPgsizes = 1;

    /// <summary>VFIO_IOMMU_INFO_CAPS.</summary>
    public const uint VfioIommuInfoCaps = 2;

    /// <summary>VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE.</summary>
    public const ushort VfioIommuType1InfoCapIovaRange = 1;

    /// <summary>VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL.</summary>
    public const ushort VfioIommuType1InfoDmaAvail = 3;

    /// <summary>VFIO_DEVICE_ATTACH_PASID / VFIO_DEVICE_DETACH_PASID.</summary>
    public const uint VfioDevicePasid = 1;

    /// <summary>VFIO_GROUP_FLAGS_VIABLE.</summary>
    public const uint VfioGroupFlagsViable = 1;

    /// <summary>VFIO_GROUP_FLAGS_CONTAINER_SET.</summary>
    public const uint VfioGroupFlagsContainerSet = 2;
}
