using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

// The hardware page table family of include/uapi/linux/iommufd.h: allocation, hardware info, dirty tracking,
// invalidation, and the vendor blobs those commands carry.

/// <summary><c>struct iommu_hwpt_alloc</c> (IOMMU_HWPT_ALLOC), 48 bytes; the minimum size ends at <c>__reserved</c> (24).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_hwpt_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: NEST_PARENT 1, DIRTY_TRACKING 2, FAULT_ID_VALID 4, PASID 8.</summary>
    public uint Flags;

    /// <summary><c>dev_id</c>: the device the HWPT is allocated for.</summary>
    public uint DevId;

    /// <summary><c>pt_id</c>: an IOAS (paging HWPT), a nest-parent HWPT or a vIOMMU (nested HWPT).</summary>
    public uint PtId;

    /// <summary><c>out_hwpt_id</c>: the new HWPT.</summary>
    public uint OutHwptId;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;

    /// <summary><c>data_type</c>: NONE 0, VTD_S1 1, ARM_SMMUV3 2.</summary>
    public uint DataType;

    /// <summary><c>data_len</c>: length of the driver data at <see cref="DataUptr"/>.</summary>
    public uint DataLen;

    /// <summary><c>data_uptr</c>: user pointer to the driver data.</summary>
    public ulong DataUptr;

    /// <summary><c>fault_id</c>: a FAULT object, with FAULT_ID_VALID.</summary>
    public uint FaultId;

    /// <summary><c>__reserved2</c>: should be 0 (not checked by the kernel described).</summary>
    public uint Reserved2;
}

/// <summary><c>struct iommu_hw_info</c> (IOMMU_GET_HW_INFO), 40 bytes; the minimum size ends at <c>__reserved[3]</c> (32).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public unsafe struct IommuHwInfo
{
    /// <summary><c>size</c>: sizeof(struct iommu_hw_info).</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary><c>flags</c>: INPUT_TYPE 1.</summary>
    [FieldOffset(4)]
    public uint Flags;

    /// <summary><c>dev_id</c>: the device to query.</summary>
    [FieldOffset(8)]
    public uint DevId;

    /// <summary><c>data_len</c>: in, the buffer length; out, the driver's blob length.</summary>
    [FieldOffset(12)]
    public uint DataLen;

    /// <summary><c>data_uptr</c>: user pointer to the buffer for the driver's blob.</summary>
    [FieldOffset(16)]
    public ulong DataUptr;

    /// <summary><c>in_data_type</c>: with INPUT_TYPE, the blob type asked for (shares its slot with <see cref="OutDataType"/>).</summary>
    [FieldOffset(24)]
    public uint InDataType;

    /// <summary><c>out_data_type</c>: the blob type returned.</summary>
    [FieldOffset(24)]
    public uint OutDataType;

    /// <summary><c>out_max_pasid_log2</c>: log2 of the device's PASID count, 0 without PASID.</summary>
    [FieldOffset(28)]
    public byte OutMaxPasidLog2;

    /// <summary><c>__reserved[3]</c>: must be 0.</summary>
    [FieldOffset(29)]
    public fixed byte Reserved[3];

    /// <summary><c>out_capabilities</c>: DIRTY_TRACKING 1, PCI_PASID_EXEC 2, PCI_PASID_PRIV 4.</summary>
    [FieldOffset(32)]
    public ulong OutCapabilities;
}

/// <summary><c>struct iommu_hw_info_vtd</c>: the Intel VT-d hardware info blob, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwInfoVtd
{
    /// <summary><c>flags</c>: ERRATA_772415_SPR17 1.</summary>
    public uint Flags;

    /// <summary><c>__reserved</c>: 0.</summary>
    public uint Reserved;

    /// <summary><c>cap_reg</c>: the CAP register.</summary>
    public ulong CapReg;

    /// <summary><c>ecap_reg</c>: the ECAP register.</summary>
    public ulong EcapReg;
}

/// <summary><c>struct iommu_hw_info_arm_smmuv3</c>: the ARM SMMUv3 hardware info blob, 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct IommuHwInfoArmSmmuv3
{
    /// <summary><c>flags</c>: none defined.</summary>
    public uint Flags;

    /// <summary><c>__reserved</c>: 0.</summary>
    public uint Reserved;

    /// <summary><c>idr[6]</c>: the ID registers IDR0–IDR5.</summary>
    public fixed uint Idr[6];

    /// <summary><c>iidr</c>: the implementation identification register.</summary>
    public uint Iidr;

    /// <summary><c>aidr</c>: the architecture identification register.</summary>
    public uint Aidr;
}

/// <summary><c>struct iommu_hw_info_tegra241_cmdqv</c>: the Tegra241 CMDQV hardware info blob, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwInfoTegra241Cmdqv
{
    /// <summary><c>flags</c>: none defined.</summary>
    public uint Flags;

    /// <summary><c>version</c>: the CMDQV version.</summary>
    public byte Version;

    /// <summary><c>log2vcmdqs</c>: log2 of the number of virtual command queues.</summary>
    public byte Log2vcmdqs;

    /// <summary><c>log2vsids</c>: log2 of the number of virtual stream ids.</summary>
    public byte Log2vsids;

    /// <summary><c>__reserved</c>: 0.</summary>
    public byte Reserved;
}

/// <summary><c>struct iommu_hwpt_set_dirty_tracking</c> (IOMMU_HWPT_SET_DIRTY_TRACKING), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptSetDirtyTracking
{
    /// <summary><c>size</c>: sizeof(struct iommu_hwpt_set_dirty_tracking).</summary>
    public uint Size;

    /// <summary><c>flags</c>: ENABLE 1.</summary>
    public uint Flags;

    /// <summary><c>hwpt_id</c>: a paging HWPT allocated with DIRTY_TRACKING.</summary>
    public uint HwptId;

    /// <summary><c>__reserved</c>: should be 0 (not checked by the kernel described).</summary>
    public uint Reserved;
}

/// <summary><c>struct iommu_hwpt_get_dirty_bitmap</c> (IOMMU_HWPT_GET_DIRTY_BITMAP), 48 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptGetDirtyBitmap
{
    /// <summary><c>size</c>: sizeof(struct iommu_hwpt_get_dirty_bitmap).</summary>
    public uint Size;

    /// <summary><c>hwpt_id</c>: a paging HWPT.</summary>
    public uint HwptId;

    /// <summary><c>flags</c>: NO_CLEAR 1.</summary>
    public uint Flags;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;

    /// <summary><c>iova</c>: start of the range; bit 0 of the bitmap is this IOVA.</summary>
    public ulong Iova;

    /// <summary><c>length</c>: bytes of the range.</summary>
    public ulong Length;

    /// <summary><c>page_size</c>: bytes one bit stands for.</summary>
    public ulong PageSize;

    /// <summary><c>data</c>: user pointer to the bitmap (bits are only set).</summary>
    public ulong Data;
}

/// <summary><c>struct iommu_hwpt_invalidate</c> (IOMMU_HWPT_INVALIDATE), 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptInvalidate
{
    /// <summary><c>size</c>: sizeof(struct iommu_hwpt_invalidate).</summary>
    public uint Size;

    /// <summary><c>hwpt_id</c>: a nested HWPT or a vIOMMU.</summary>
    public uint HwptId;

    /// <summary><c>data_uptr</c>: user pointer to the entries.</summary>
    public ulong DataUptr;

    /// <summary><c>data_type</c>: VTD_S1 0, ARM_SMMUV3 1.</summary>
    public uint DataType;

    /// <summary><c>entry_len</c>: bytes per entry.</summary>
    public uint EntryLen;

    /// <summary><c>entry_num</c>: in, entries; out, entries handled (also on error).</summary>
    public uint EntryNum;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;
}

/// <summary><c>struct iommu_hwpt_vtd_s1_invalidate</c>: one VT-d stage-1 invalidation entry, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptVtdS1Invalidate
{
    /// <summary><c>addr</c>: 4 KiB-aligned start (0 with npages U64_MAX: everything).</summary>
    public ulong Addr;

    /// <summary><c>npages</c>: number of 4 KiB pages.</summary>
    public ulong Npages;

    /// <summary><c>flags</c>: LEAF 1.</summary>
    public uint Flags;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;
}

/// <summary><c>struct iommu_viommu_arm_smmuv3_invalidate</c>: one 128-bit SMMUv3 CMDQ command, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct IommuViommuArmSmmuv3Invalidate
{
    /// <summary><c>cmd[2]</c>: the command, little-endian.</summary>
    public fixed ulong Cmd[2];
}

/// <summary><c>struct iommu_hwpt_vtd_s1</c>: VT-d stage-1 nested HWPT data, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuHwptVtdS1
{
    /// <summary><c>flags</c>: SRE 1, EAFE 2, WPE 4.</summary>
    public ulong Flags;

    /// <summary><c>pgtbl_addr</c>: the guest stage-1 table's address.</summary>
    public ulong PgtblAddr;

    /// <summary><c>addr_width</c>: input address width.</summary>
    public uint AddrWidth;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;
}

/// <summary><c>struct iommu_hwpt_arm_smmuv3</c>: SMMUv3 nested HWPT data (a guest STE), 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct IommuHwptArmSmmuv3
{
    /// <summary><c>ste[2]</c>: the first two STE words, little-endian.</summary>
    public fixed ulong Ste[2];
}
