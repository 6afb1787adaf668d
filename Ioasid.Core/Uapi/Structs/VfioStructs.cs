using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

// The parts of include/uapi/linux/vfio.h that Ioasid serves: the type1 container ioctls (answered by the iommufd
// compat layer), the group status, and the cdev bind/attach/detach structs. VFIO structs start with `argsz`.

/// <summary><c>struct vfio_iommu_type1_info</c> (VFIO_IOMMU_GET_INFO), 24 bytes; the capability chain follows it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIommuType1Info
{
    /// <summary><c>argsz</c>: in, the buffer size; out, the size the whole chain needs.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: PGSIZES 1, CAPS 2.</summary>
    public uint Flags;

    /// <summary><c>iova_pgsizes</c>: the page sizes every domain supports.</summary>
    public ulong IovaPgsizes;

    /// <summary><c>cap_offset</c>: offset of the first capability, 0 when the buffer was too small.</summary>
    public uint CapOffset;

    /// <summary><c>pad</c>.</summary>
    public uint Pad;
}

/// <summary><c>struct vfio_info_cap_header</c>: the header of each capability, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioInfoCapHeader
{
    /// <summary><c>id</c>: IOVA_RANGE 1, DMA_AVAIL 3.</summary>
    public ushort Id;

    /// <summary><c>version</c>.</summary>
    public ushort Version;

    /// <summary><c>next</c>: offset of the next capability from the start of the info struct, 0 at the end.</summary>
    public uint Next;
}

/// <summary><c>struct vfio_iova_range</c>: an inclusive range, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIovaRange
{
    /// <summary><c>start</c>.</summary>
    public ulong Start;

    /// <summary><c>end</c>: inclusive.</summary>
    public ulong End;
}

/// <summary><c>struct vfio_iommu_type1_info_cap_iova_range</c>: the fixed part (16 bytes) before the ranges.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIommuType1InfoCapIovaRange
{
    /// <summary><c>header</c>.</summary>
    public VfioInfoCapHeader Header;

    /// <summary><c>nr_iovas</c>: the number of <see cref="VfioIovaRange"/> that follow.</summary>
    public uint NrIovas;

    /// <summary><c>reserved</c>.</summary>
    public uint Reserved;
}

/// <summary><c>struct vfio_iommu_type1_info_dma_avail</c>, 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIommuType1InfoDmaAvail
{
    /// <summary><c>header</c>.</summary>
    public VfioInfoCapHeader Header;

    /// <summary><c>avail</c>: how many more mappings may be made.</summary>
    public uint Avail;
}

/// <summary><c>struct vfio_iommu_type1_dma_map</c> (VFIO_IOMMU_MAP_DMA), 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIommuType1DmaMap
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: READ 1, WRITE 2 (VADDR 4 is not supported).</summary>
    public uint Flags;

    /// <summary><c>vaddr</c>: the user memory.</summary>
    public ulong Vaddr;

    /// <summary><c>iova</c>: where to map it.</summary>
    public ulong Iova;

    /// <summary><c>size</c>: bytes.</summary>
    public ulong Size;
}

/// <summary><c>struct vfio_iommu_type1_dma_unmap</c> (VFIO_IOMMU_UNMAP_DMA), 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioIommuType1DmaUnmap
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: ALL 2 (GET_DIRTY_BITMAP 1 and VADDR 4 are not supported).</summary>
    public uint Flags;

    /// <summary><c>iova</c>.</summary>
    public ulong Iova;

    /// <summary><c>size</c>: in, bytes; out, bytes unmapped.</summary>
    public ulong Size;
}

/// <summary><c>struct vfio_group_status</c> (VFIO_GROUP_GET_STATUS), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioGroupStatus
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: VIABLE 1, CONTAINER_SET 2.</summary>
    public uint Flags;
}

/// <summary><c>struct vfio_device_bind_iommufd</c> (VFIO_DEVICE_BIND_IOMMUFD), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioDeviceBindIommufd
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>iommufd</c>: an fd of <c>/dev/iommu</c>.</summary>
    public int Iommufd;

    /// <summary><c>out_devid</c>: the device object in that context.</summary>
    public uint OutDevid;
}

/// <summary><c>struct vfio_device_attach_iommufd_pt</c> (VFIO_DEVICE_ATTACH_IOMMUFD_PT), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioDeviceAttachIommufdPt
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: VFIO_DEVICE_ATTACH_PASID 1.</summary>
    public uint Flags;

    /// <summary><c>pt_id</c>: in, an IOAS or HWPT; out, the HWPT attached.</summary>
    public uint PtId;

    /// <summary><c>pasid</c>: with VFIO_DEVICE_ATTACH_PASID.</summary>
    public uint Pasid;
}

/// <summary><c>struct vfio_device_detach_iommufd_pt</c> (VFIO_DEVICE_DETACH_IOMMUFD_PT), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VfioDeviceDetachIommufdPt
{
    /// <summary><c>argsz</c>.</summary>
    public uint Argsz;

    /// <summary><c>flags</c>: VFIO_DEVICE_DETACH_PASID 1.</summary>
    public uint Flags;

    /// <summary><c>pasid</c>: with VFIO_DEVICE_DETACH_PASID.</summary>
    public uint Pasid;
}
