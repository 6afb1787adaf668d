using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

// The IOAS family of include/uapi/linux/iommufd.h. Each struct and field is the PascalCase of its C name, so a
// mechanical comparison with the header is possible; sizes and offsets equal the C layout (__aligned_u64 → ulong at
// an 8-byte offset). The first u32 of every command struct is `size`, the extensible-struct length.

/// <summary><c>struct iommu_destroy</c> (IOMMU_DESTROY), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuDestroy
{
    /// <summary><c>size</c>: sizeof(struct iommu_destroy).</summary>
    public uint Size;

    /// <summary><c>id</c>: the object to destroy.</summary>
    public uint Id;
}

/// <summary><c>struct iommu_ioas_alloc</c> (IOMMU_IOAS_ALLOC), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasAlloc
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_alloc).</summary>
    public uint Size;

    /// <summary><c>flags</c>: must be 0.</summary>
    public uint Flags;

    /// <summary><c>out_ioas_id</c>: the new IOAS.</summary>
    public uint OutIoasId;
}

/// <summary><c>struct iommu_iova_range</c>: an inclusive IOVA range, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIovaRange
{
    /// <summary><c>start</c>: first IOVA.</summary>
    public ulong Start;

    /// <summary><c>last</c>: last IOVA (inclusive).</summary>
    public ulong Last;
}

/// <summary><c>struct iommu_ioas_iova_ranges</c> (IOMMU_IOAS_IOVA_RANGES), 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasIovaRanges
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_iova_ranges).</summary>
    public uint Size;

    /// <summary><c>ioas_id</c>: the IOAS to query.</summary>
    public uint IoasId;

    /// <summary><c>num_iovas</c>: in, the capacity of <see cref="AllowedIovas"/>; out, the number of ranges.</summary>
    public uint NumIovas;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;

    /// <summary><c>allowed_iovas</c>: user pointer to an array of <see cref="IommuIovaRange"/>.</summary>
    public ulong AllowedIovas;

    /// <summary><c>out_iova_alignment</c>: the IOAS alignment every mapping must respect.</summary>
    public ulong OutIovaAlignment;
}

/// <summary><c>struct iommu_ioas_allow_iovas</c> (IOMMU_IOAS_ALLOW_IOVAS), 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasAllowIovas
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_allow_iovas).</summary>
    public uint Size;

    /// <summary><c>ioas_id</c>: the IOAS to change.</summary>
    public uint IoasId;

    /// <summary><c>num_iovas</c>: the number of entries at <see cref="AllowedIovas"/>; 0 clears the list.</summary>
    public uint NumIovas;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;

    /// <summary><c>allowed_iovas</c>: user pointer to an array of <see cref="IommuIovaRange"/>.</summary>
    public ulong AllowedIovas;
}

/// <summary><c>struct iommu_ioas_map</c> (IOMMU_IOAS_MAP), 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasMap
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_map).</summary>
    public uint Size;

    /// <summary><c>flags</c>: FIXED_IOVA 1, WRITEABLE 2, READABLE 4.</summary>
    public uint Flags;

    /// <summary><c>ioas_id</c>: the IOAS to map into.</summary>
    public uint IoasId;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;

    /// <summary><c>user_va</c>: the user memory to map.</summary>
    public ulong UserVa;

    /// <summary><c>length</c>: bytes to map.</summary>
    public ulong Length;

    /// <summary><c>iova</c>: in with FIXED_IOVA; out, the IOVA chosen.</summary>
    public ulong Iova;
}

/// <summary><c>struct iommu_ioas_map_file</c> (IOMMU_IOAS_MAP_FILE), 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasMapFile
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_map_file).</summary>
    public uint Size;

    /// <summary><c>flags</c>: as <see cref="IommuIoasMap.Flags"/>.</summary>
    public uint Flags;

    /// <summary><c>ioas_id</c>: the IOAS to map into.</summary>
    public uint IoasId;

    /// <summary><c>fd</c>: a memfd.</summary>
    public int Fd;

    /// <summary><c>start</c>: byte offset in the file.</summary>
    public ulong Start;

    /// <summary><c>length</c>: bytes to map.</summary>
    public ulong Length;

    /// <summary><c>iova</c>: in with FIXED_IOVA; out, the IOVA chosen.</summary>
    public ulong Iova;
}

/// <summary><c>struct iommu_ioas_copy</c> (IOMMU_IOAS_COPY), 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasCopy
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_copy).</summary>
    public uint Size;

    /// <summary><c>flags</c>: as <see cref="IommuIoasMap.Flags"/>.</summary>
    public uint Flags;

    /// <summary><c>dst_ioas_id</c>: the IOAS to map into.</summary>
    public uint DstIoasId;

    /// <summary><c>src_ioas_id</c>: the IOAS whose mappings are copied.</summary>
    public uint SrcIoasId;

    /// <summary><c>length</c>: bytes to copy.</summary>
    public ulong Length;

    /// <summary><c>dst_iova</c>: in with FIXED_IOVA; out, the IOVA chosen.</summary>
    public ulong DstIova;

    /// <summary><c>src_iova</c>: start of the source range.</summary>
    public ulong SrcIova;
}

/// <summary><c>struct iommu_ioas_unmap</c> (IOMMU_IOAS_UNMAP), 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasUnmap
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_unmap).</summary>
    public uint Size;

    /// <summary><c>ioas_id</c>: the IOAS to unmap from.</summary>
    public uint IoasId;

    /// <summary><c>iova</c>: start of the range (0 with length U64_MAX: everything).</summary>
    public ulong Iova;

    /// <summary><c>length</c>: in, bytes; out, bytes unmapped.</summary>
    public ulong Length;
}

/// <summary><c>struct iommu_option</c> (IOMMU_OPTION), 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuOption
{
    /// <summary><c>size</c>: sizeof(struct iommu_option).</summary>
    public uint Size;

    /// <summary><c>option_id</c>: RLIMIT_MODE 0, HUGE_PAGES 1.</summary>
    public uint OptionId;

    /// <summary><c>op</c>: SET 0, GET 1.</summary>
    public ushort Op;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public ushort Reserved;

    /// <summary><c>object_id</c>: 0 for a global option, the IOAS for HUGE_PAGES.</summary>
    public uint ObjectId;

    /// <summary><c>val64</c>: in for SET, out for GET.</summary>
    public ulong Val64;
}

/// <summary><c>struct iommu_vfio_ioas</c> (IOMMU_VFIO_IOAS), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuVfioIoas
{
    /// <summary><c>size</c>: sizeof(struct iommu_vfio_ioas).</summary>
    public uint Size;

    /// <summary><c>ioas_id</c>: in for SET, out for GET.</summary>
    public uint IoasId;

    /// <summary><c>op</c>: GET 0, SET 1, CLEAR 2.</summary>
    public ushort Op;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public ushort Reserved;
}

/// <summary><c>struct iommu_ioas_change_process</c> (IOMMU_IOAS_CHANGE_PROCESS), 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuIoasChangeProcess
{
    /// <summary><c>size</c>: sizeof(struct iommu_ioas_change_process).</summary>
    public uint Size;

    /// <summary><c>__reserved</c>: must be 0.</summary>
    public uint Reserved;
}
