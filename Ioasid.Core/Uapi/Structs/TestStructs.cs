using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

// drivers/iommu/iommufd/iommufd_test.h: IOMMU_TEST_CMD, the selftest ioctl. The argument union starts at byte 16;
// each member is its own struct named after the C member (mock_domain → IommuTestCmdMockDomain).

/// <summary><c>struct iommu_test_cmd</c> (IOMMU_TEST_CMD), 72 bytes; the minimum size ends at <c>last</c> (68).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public struct IommuTestCmd
{
    /// <summary><c>size</c>: sizeof(struct iommu_test_cmd).</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary><c>op</c>: an IOMMU_TEST_OP_* value.</summary>
    [FieldOffset(4)]
    public uint Op;

    /// <summary><c>id</c>: the object (or access fd) the op works on.</summary>
    [FieldOffset(8)]
    public uint Id;

    /// <summary><c>__reserved</c>: 0.</summary>
    [FieldOffset(12)]
    public uint Reserved;

    /// <summary><c>add_reserved</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdAddReserved AddReserved;

    /// <summary><c>mock_domain</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdMockDomain MockDomain;

    /// <summary><c>mock_domain_flags</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdMockDomainFlags MockDomainFlags;

    /// <summary><c>mock_domain_replace</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdMockDomainReplace MockDomainReplace;

    /// <summary><c>check_map</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdCheckMap CheckMap;

    /// <summary><c>check_refs</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdCheckRefs CheckRefs;

    /// <summary><c>create_access</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdCreateAccess CreateAccess;

    /// <summary><c>destroy_access_pages</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdDestroyAccessPages DestroyAccessPages;

    /// <summary><c>access_pages</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdAccessPages AccessPages;

    /// <summary><c>access_rw</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdAccessRw AccessRw;

    /// <summary><c>access_replace_ioas</c>.</summary>
    [FieldOffset(16)]
    public IommuTestCmdAccessReplaceIoas AccessReplaceIoas;

    /// <summary><c>dirty</c>: the largest member (48 bytes), which fixes the union's size.</summary>
    [FieldOffset(16)]
    public IommuTestCmdDirty Dirty;

    /// <summary><c>last</c>: marks the end of the mandatory part.</summary>
    [FieldOffset(64)]
    public uint Last;
}

/// <summary><c>iommu_test_cmd.add_reserved</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdAddReserved
{
    /// <summary><c>start</c>.</summary>
    public ulong Start;

    /// <summary><c>length</c>.</summary>
    public ulong Length;
}

/// <summary><c>iommu_test_cmd.mock_domain</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdMockDomain
{
    /// <summary><c>out_stdev_id</c>: the selftest object; destroying it detaches, unbinds and removes the mock device.</summary>
    public uint OutStdevId;

    /// <summary><c>out_hwpt_id</c>: the HWPT the device was attached to.</summary>
    public uint OutHwptId;

    /// <summary><c>out_idev_id</c>: the bound device object.</summary>
    public uint OutIdevId;
}

/// <summary><c>iommu_test_cmd.mock_domain_flags</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdMockDomainFlags
{
    /// <summary><c>out_stdev_id</c>.</summary>
    public uint OutStdevId;

    /// <summary><c>out_hwpt_id</c>.</summary>
    public uint OutHwptId;

    /// <summary><c>out_idev_id</c>.</summary>
    public uint OutIdevId;

    /// <summary><c>dev_flags</c>: MOCK_FLAGS_DEVICE_NO_DIRTY 1, HUGE_IOVA 2, PASID 4.</summary>
    public uint DevFlags;
}

/// <summary><c>iommu_test_cmd.mock_domain_replace</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdMockDomainReplace
{
    /// <summary><c>pt_id</c>: in, the new IOAS or HWPT; out, the HWPT.</summary>
    public uint PtId;
}

/// <summary><c>iommu_test_cmd.check_map</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdCheckMap
{
    /// <summary><c>iova</c>.</summary>
    public ulong Iova;

    /// <summary><c>length</c>.</summary>
    public ulong Length;

    /// <summary><c>uptr</c>: the user memory the IOVA range must translate to.</summary>
    public ulong Uptr;
}

/// <summary><c>iommu_test_cmd.check_refs</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdCheckRefs
{
    /// <summary><c>length</c>.</summary>
    public ulong Length;

    /// <summary><c>uptr</c>.</summary>
    public ulong Uptr;

    /// <summary><c>refs</c>: the pin count every page must have.</summary>
    public uint Refs;
}

/// <summary><c>iommu_test_cmd.create_access</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdCreateAccess
{
    /// <summary><c>out_access_fd</c>.</summary>
    public uint OutAccessFd;

    /// <summary><c>flags</c>: MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES 1.</summary>
    public uint Flags;
}

/// <summary><c>iommu_test_cmd.destroy_access_pages</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdDestroyAccessPages
{
    /// <summary><c>access_pages_id</c>.</summary>
    public uint AccessPagesId;
}

/// <summary><c>iommu_test_cmd.access_pages</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdAccessPages
{
    /// <summary><c>flags</c>: MOCK_FLAGS_ACCESS_WRITE 1.</summary>
    public uint Flags;

    /// <summary><c>out_access_pages_id</c>.</summary>
    public uint OutAccessPagesId;

    /// <summary><c>iova</c>.</summary>
    public ulong Iova;

    /// <summary><c>length</c>.</summary>
    public ulong Length;

    /// <summary><c>uptr</c>: when non-zero, the pinned pages must be the pages behind this user address.</summary>
    public ulong Uptr;
}

/// <summary><c>iommu_test_cmd.access_rw</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdAccessRw
{
    /// <summary><c>iova</c>.</summary>
    public ulong Iova;

    /// <summary><c>length</c>.</summary>
    public ulong Length;

    /// <summary><c>uptr</c>: the user buffer.</summary>
    public ulong Uptr;

    /// <summary><c>flags</c>: MOCK_ACCESS_RW_WRITE 1, SLOW_PATH 4.</summary>
    public uint Flags;
}

/// <summary><c>iommu_test_cmd.access_replace_ioas</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdAccessReplaceIoas
{
    /// <summary><c>ioas_id</c>.</summary>
    public uint IoasId;
}

/// <summary><c>iommu_test_cmd.dirty</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IommuTestCmdDirty
{
    /// <summary><c>flags</c>.</summary>
    public uint Flags;

    /// <summary><c>iova</c>.</summary>
    public ulong Iova;

    /// <summary><c>length</c>.</summary>
    public ulong Length;

    /// <summary><c>page_size</c>.</summary>
    public ulong PageSize;

    /// <summary><c>uptr</c>.</summary>
    public ulong Uptr;

    /// <summary><c>out_nr_dirty</c>.</summary>
    public ulong OutNrDirty;
}
