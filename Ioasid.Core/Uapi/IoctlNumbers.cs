namespace Ioasid.Core.Uapi;

/// <summary>
/// The ioctl request numbers Ioasid answers. iommufd and VFIO both use type <c>';'</c> (0x3B) and <c>_IO(type, nr)</c>
/// with no direction and no size encoded, so a request is <c>0x3B00 | nr</c>: iommufd commands are nr 0x80 and up,
/// VFIO's are 100 (0x64) and up. The size of an iommufd struct travels in its first u32 instead.
/// </summary>
public static class IoctlNumbers
{
    /// <summary><c>IOMMUFD_TYPE</c> and <c>VFIO_TYPE</c>: the ASCII code of ';'.</summary>
    public const byte IommufdType = (byte)';';

    /// <summary><c>IOMMUFD_CMD_BASE</c>: nr of the first iommufd command.</summary>
    public const byte IommufdCmdBase = 0x80;

    /// <summary><c>VFIO_BASE</c>: nr of the first VFIO command.</summary>
    public const byte VfioBase = 100;

    /// <summary>IOMMU_DESTROY.</summary>
    public const uint IommuDestroy = (IommufdType << 8) | 0x80;

    /// <summary>IOMMU_IOAS_ALLOC.</summary>
    public const uint IommuIoasAlloc = (IommufdType << 8) | 0x81;

    /// <summary>IOMMU_IOAS_ALLOW_IOVAS.</summary>
    public const uint IommuIoasAllowIovas = (IommufdType << 8) | 0x82;

    /// <summary>IOMMU_IOAS_COPY.</summary>
    public const uint IommuIoasCopy = (IommufdType << 8) | 0x83;

    /// <summary>IOMMU_IOAS_IOVA_RANGES.</summary>
    public const uint IommuIoasIovaRanges = (IommufdType << 8) | 0x84;

    /// <summary>IOMMU_IOAS_MAP.</summary>
    public const uint IommuIoasMap = (IommufdType << 8) | 0x85;

    /// <summary>IOMMU_IOAS_UNMAP.</summary>
    public const uint IommuIoasUnmap = (IommufdType << 8) | 0x86;

    /// <summary>IOMMU_OPTION.</summary>
    public const uint IommuOption = (IommufdType << 8) | 0x87;

    /// <summary>IOMMU_VFIO_IOAS.</summary>
    public const uint IommuVfioIoas = (IommufdType << 8) | 0x88;

    /// <summary>IOMMU_HWPT_ALLOC.</summary>
    public const uint IommuHwptAlloc = (IommufdType << 8) | 0x89;

    /// <summary>IOMMU_GET_HW_INFO.</summary>
    public const uint IommuGetHwInfo = (IommufdType << 8) | 0x8a;

    /// <summary>IOMMU_HWPT_SET_DIRTY_TRACKING.</summary>
    public const uint IommuHwptSetDirtyTracking = (IommufdType << 8) | 0x8b;

    /// <summary>IOMMU_HWPT_GET_DIRTY_BITMAP.</summary>
    public const uint IommuHwptGetDirtyBitmap = (IommufdType << 8) | 0x8c;

    /// <summary>IOMMU_HWPT_INVALIDATE.</summary>
    public const uint IommuHwptInvalidate = (IommufdType << 8) | 0x8d;

    /// <summary>IOMMU_FAULT_QUEUE_ALLOC.</summary>
    public const uint IommuFaultQueueAlloc = (IommufdType << 8) | 0x8e;

    /// <summary>IOMMU_IOAS_MAP_FILE.</summary>
    public const uint IommuIoasMapFile = (IommufdType << 8) | 0x8f;

    /// <summary>IOMMU_VIOMMU_ALLOC.</summary>
    public const uint IommuViommuAlloc = (IommufdType << 8) | 0x90;

    /// <summary>IOMMU_VDEVICE_ALLOC.</summary>
    public const uint IommuVdeviceAlloc = (IommufdType << 8) | 0x91;

    /// <summary>IOMMU_IOAS_CHANGE_PROCESS.</summary>
    public const uint IommuIoasChangeProcess = (IommufdType << 8) | 0x92;

    /// <summary>IOMMU_VEVENTQ_ALLOC.</summary>
    public const uint IommuVeventqAlloc = (IommufdType << 8) | 0x93;

    /// <summary>IOMMU_HW_QUEUE_ALLOC, the last command of the header described.</summary>
    public const uint IommuHwQueueAlloc = (IommufdType << 8) | 0x94;

    /// <summary>IOMMU_TEST_CMD (only with a selftest handler, like a kernel with CONFIG_IOMMUFD_TEST).</summary>
    public const uint IommuTestCmd = (IommufdType << 8) | 0xa0;

    /// <summary>VFIO_GET_API_VERSION.</summary>
    public const uint VfioGetApiVersion = (IommufdType << 8) | (VfioBase + 0);

    /// <summary>VFIO_CHECK_EXTENSION (the argument is the extension number, not a pointer).</summary>
    public const uint VfioCheckExtension = (IommufdType << 8) | (VfioBase + 1);

    /// <summary>VFIO_SET_IOMMU (the argument is the IOMMU type, not a pointer).</summary>
    public const uint VfioSetIommu = (IommufdType << 8) | (VfioBase + 2);

    /// <summary>VFIO_GROUP_GET_STATUS.</summary>
    public const uint VfioGroupGetStatus = (IommufdType << 8) | (VfioBase + 3);

    /// <summary>VFIO_GROUP_SET_CONTAINER (the argument points at an int fd).</summary>
    public const uint VfioGroupSetContainer = (IommufdType << 8) | (VfioBase + 4);

    /// <summary>VFIO_GROUP_UNSET_CONTAINER.</summary>
    public const uint VfioGroupUnsetContainer = (IommufdType << 8) | (VfioBase + 5);

    /// <summary>VFIO_GROUP_GET_DEVICE_FD (the argument is the device's name; the result is a new fd).</summary>
    public const uint VfioGroupGetDeviceFd = (IommufdType << 8) | (VfioBase + 6);

    /// <summary>VFIO_IOMMU_GET_INFO.</summary>
    public const uint VfioIommuGetInfo = (IommufdType << 8) | (VfioBase + 12);

    /// <summary>VFIO_IOMMU_MAP_DMA.</summary>
    public const uint VfioIommuMapDma = (IommufdType << 8) | (VfioBase + 13);

    /// <summary>VFIO_IOMMU_UNMAP_DMA.</summary>
    public const uint VfioIommuUnmapDma = (IommufdType << 8) | (VfioBase + 14);

    /// <summary>VFIO_IOMMU_DIRTY_PAGES (not served by the iommufd compat layer: ENOTTY).</summary>
    public const uint VfioIommuDirtyPages = (IommufdType << 8) | (VfioBase + 17);

    /// <summary>VFIO_DEVICE_BIND_IOMMUFD.</summary>
    public const uint VfioDeviceBindIommufd = (IommufdType << 8) | (VfioBase + 18);

    /// <summary>VFIO_DEVICE_ATTACH_IOMMUFD_PT.</summary>
    public const uint VfioDeviceAttachIommufdPt = (IommufdType << 8) | (VfioBase + 19);

    /// <summary>VFIO_DEVICE_DETACH_IOMMUFD_PT.</summary>
    public const uint VfioDeviceDetachIommufdPt = (IommufdType << 8) | (VfioBase + 20);

    /// <summary><c>_IO(type, nr)</c>.</summary>
    public static uint Io(byte type, byte nr) => ((uint)type << 8) | nr;

    /// <summary><c>_IOC_NR</c>: the low 8 bits.</summary>
    public static byte Nr(uint request) => (byte)request;
}
