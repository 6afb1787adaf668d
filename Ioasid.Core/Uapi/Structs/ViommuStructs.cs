using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

// Fault queues, vIOMMU, vDEVICE, vEVENTQ and HW queue structs of include/uapi/linux/iommufd.h, and the records
// their file descriptors read and write.

/// <summary><c>struct iommu_fault_alloc</c> (IOMMU_FAULT_QUEUE_ALLOC), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuFaultAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_fault_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>out_fault_id</c>: the new FAULT object.</summary>
    public uint OutFaultId;

    /// <summary><c>out_fault_fd</c>: the fd faults are read from.</summary>
    public uint OutFaultFd;
}

/// <summary><c>struct iommu_viommu_alloc</c> (IOMMU_VIOMMU_ALLOC), 40 bytes; the minimum size ends at <c>out_viommu_id</c> (24).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuViommuAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_viommu_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>type</c>: ARM_SMMUV3 1, TEGRA241_CMDQV 2 (DEFAULT 0 is reserved).</summary>
    public uint Type;

    /// <summary><c>dev_id</c>: a device behind the physical IOMMU.</summary>
    public uint DevId;

    /// <summary><c>hwpt_id</c>: the nest-parent paging HWPT.</summary>
    public uint HwptId;

    /// <summary><c>out_viommu_id</c>: the new vIOMMU.</summary>
    public uint OutViommuId;

    /// <summary><c>data_len</c>: length of the driver data.</summary>
    public uint DataLen;

    /// <summary><c>__reserved</c>: should be 0 (not checked by the kernel described).</summary>
    public uint Reserved;

    /// <summary><c>data_uptr</c>: user pointer to the in/out driver data.</summary>
    public ulong DataUptr;
}

/// <summary><c>struct iommu_vdevice_alloc</c> (IOMMU_VDEVICE_ALLOC), 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuVdeviceAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_vdevice_alloc).</summary>
    public uint Size;

    /// <summary><c>viommu_id</c>: the vIOMMU.</summary>
    public uint ViommuId;

    /// <summary><c>dev_id</c>: the physical device.</summary>
    public uint DevId;

    /// <summary><c>out_vdevice_id</c>: the new vDEVICE.</summary>
    public uint OutVdeviceId;

    /// <summary><c>virt_id</c>: the device's id in the guest (vSID, vRID, vDeviceID).</summary>
    public ulong VirtId;
}

/// <summary><c>struct iommu_veventq_alloc</c> (IOMMU_VEVENTQ_ALLOC), 32 bytes; the minimum size ends at <c>out_veventq_fd</c> (28).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuVeventqAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_veventq_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>viommu_id</c>: the vIOMMU.</summary>
    public uint ViommuId;

    /// <summary><c>type</c>: ARM_SMMUV3 1, TEGRA241_CMDQV 2 (DEFAULT 0 is reserved).</summary>
    public uint Type;

    /// <summary><c>veventq_depth</c>: maximum queued events.</summary>
    public uint VeventqDepth;

    /// <summary><c>out_veventq_id</c>: the new vEVENTQ.</summary>
    public uint OutVeventqId;

    /// <summary><c>out_veventq_fd</c>: the fd events are read from.</summary>
    public uint OutVeventqFd;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;
}

/// <summary><c>struct iommu_hw_queue_alloc</c> (IOMMU_HW_QUEUE_ALLOC), 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwQueueAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_hw_queue_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>viommu_id</c>: the vIOMMU.</summary>
    public uint ViommuId;

    /// <summary><c>type</c>: TEGRA241_CMDQV 1 (DEFAULT 0 is reserved).</summary>
    public uint Type;

    /// <summary><c>index</c>: the queue index.</summary>
    public uint Index;

    /// <summary><c>out_hw_queue_id</c>: the new HW queue.</summary>
    public uint OutHwQueueId;

    /// <summary><c>nesting_parent_iova</c>: where the queue memory is mapped in the parent IOAS.</summary>
    public ulong NestingParentIova;

    /// <summary><c>length</c>: bytes of queue memory.</summary>
    public ulong Length;
}

/// <summary><c>struct iommu_hwpt_pgfault</c>: one fault record read from a fault fd, 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptPgfault
{
    /// <summary><c>flags</c>: PASID_VALID 1, LAST_PAGE 2.</summary>
    public uint Flags;

    /// <summary><c>dev_id</c>: the faulting device object.</summary>
    public uint DevId;

    /// <summary><c>pasid</c>: the PASID, with PASID_VALID.</summary>
    public uint Pasid;

    /// <summary><c>grpid</c>: the page request group.</summary>
    public uint Grpid;

    /// <summary><c>perm</c>: READ 1, WRITE 2, EXEC 4, PRIV 8.</summary>
    public uint Perm;

    /// <summary><c>__reserved</c>: 0.</summary>
    public uint Reserved;

    /// <summary><c>addr</c>: the faulting address.</summary>
    public ulong Addr;

    /// <summary><c>length</c>: bytes of the request.</summary>
    public uint Length;

    /// <summary><c>cookie</c>: names the group in the response.</summary>
    public uint Cookie;
}

/// <summary><c>struct iommu_hwpt_page_response</c>: one response written to a fault fd, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptPageResponse
{
    /// <summary><c>cookie</c>: the group being answered.</summary>
    public uint Cookie;

    /// <summary><c>code</c>: SUCCESS 0, INVALID 1.</summary>
    public uint Code;
}

/// <summary><c>struct iommufd_vevent_header</c>: the header before each vEVENT record, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommufdVeventHeader
{
    /// <summary><c>flags</c>: LOST_EVENTS 1.</summary>
    public uint Flags;

    /// <summary><c>sequence</c>: 0 to INT_MAX, then wraps.</summary>
    public uint Sequence;
}
