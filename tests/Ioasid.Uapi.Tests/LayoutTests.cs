using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ioasid.Core.Uapi;

namespace Ioasid.Uapi.Tests;

/// <summary>Every uAPI struct has the size and field offsets of the C header (iommufd.md §3, iommufd_test.h, vfio.h).</summary>
public sealed class LayoutTests
{
    public static TheoryData<Type, int, string> Layouts()
    {
        var data = new TheoryData<Type, int, string>();
        void Add<T>(int size, string fields)
            where T : unmanaged => data.Add(typeof(T), size, fields);

        Add<IommuDestroy>(8, "Size@0 Id@4");
        Add<IommuIoasAlloc>(12, "Size@0 Flags@4 OutIoasId@8");
        Add<IommuIovaRange>(16, "Start@0 Last@8");
        Add<IommuIoasIovaRanges>(32, "Size@0 IoasId@4 NumIovas@8 Reserved@12 AllowedIovas@16 OutIovaAlignment@24");
        Add<IommuIoasAllowIovas>(24, "Size@0 IoasId@4 NumIovas@8 Reserved@12 AllowedIovas@16");
        Add<IommuIoasMap>(40, "Size@0 Flags@4 IoasId@8 Reserved@12 UserVa@16 Length@24 Iova@32");
        Add<IommuIoasMapFile>(40, "Size@0 Flags@4 IoasId@8 Fd@12 Start@16 Length@24 Iova@32");
        Add<IommuIoasCopy>(40, "Size@0 Flags@4 DstIoasId@8 SrcIoasId@12 Length@16 DstIova@24 SrcIova@32");
        Add<IommuIoasUnmap>(24, "Size@0 IoasId@4 Iova@8 Length@16");
        Add<IommuOption>(24, "Size@0 OptionId@4 Op@8 Reserved@10 ObjectId@12 Val64@16");
        Add<IommuVfioIoas>(12, "Size@0 IoasId@4 Op@8 Reserved@10");
        Add<IommuIoasChangeProcess>(8, "Size@0 Reserved@4");
        Add<IommuHwptAlloc>(48, "Size@0 Flags@4 DevId@8 PtId@12 OutHwptId@16 Reserved@20 DataType@24 DataLen@28 DataUptr@32 FaultId@40 Reserved2@44");
        Add<IommuHwInfo>(40, "Size@0 Flags@4 DevId@8 DataLen@12 DataUptr@16 InDataType@24 OutDataType@24 OutMaxPasidLog2@28 Reserved@29 OutCapabilities@32");
        Add<IommuHwInfoVtd>(24, "Flags@0 Reserved@4 CapReg@8 EcapReg@16");
        Add<IommuHwInfoArmSmmuv3>(40, "Flags@0 Reserved@4 Idr@8 Iidr@32 Aidr@36");
        Add<IommuHwInfoTegra241Cmdqv>(8, "Flags@0 Version@4 Log2vcmdqs@5 Log2vsids@6 Reserved@7");
        Add<IommuHwptSetDirtyTracking>(16, "Size@0 Flags@4 HwptId@8 Reserved@12");
        Add<IommuHwptGetDirtyBitmap>(48, "Size@0 HwptId@4 Flags@8 Reserved@12 Iova@16 Length@24 PageSize@32 Data@40");
        Add<IommuHwptInvalidate>(32, "Size@0 HwptId@4 DataUptr@8 DataType@16 EntryLen@20 EntryNum@24 Reserved@28");
        Add<IommuHwptVtdS1Invalidate>(24, "Addr@0 Npages@8 Flags@16 Reserved@20");
        Add<IommuViommuArmSmmuv3Invalidate>(16, "Cmd@0");
        Add<IommuHwptVtdS1>(24, "Flags@0 PgtblAddr@8 AddrWidth@16 Reserved@20");
        Add<IommuHwptArmSmmuv3>(16, "Ste@0");
        Add<IommuFaultAlloc>(16, "Size@0 Flags@4 OutFaultId@8 OutFaultFd@12");
        Add<IommuViommuAlloc>(40, "Size@0 Flags@4 Type@8 DevId@12 HwptId@16 OutViommuId@20 DataLen@24 Reserved@28 DataUptr@32");
        Add<IommuVdeviceAlloc>(24, "Size@0 ViommuId@4 DevId@8 OutVdeviceId@12 VirtId@16");
        Add<IommuVeventqAlloc>(32, "Size@0 Flags@4 ViommuId@8 Type@12 VeventqDepth@16 OutVeventqId@20 OutVeventqFd@24 Reserved@28");
        Add<IommuHwQueueAlloc>(40, "Size@0 Flags@4 ViommuId@8 Type@12 Index@16 OutHwQueueId@20 NestingParentIova@24 Length@32");
        Add<IommuHwptPgfault>(40, "Flags@0 DevId@4 Pasid@8 Grpid@12 Perm@16 Reserved@20 Addr@24 Length@32 Cookie@36");
        Add<IommuHwptPageResponse>(8, "Cookie@0 Code@4");
        Add<IommufdVeventHeader>(8, "Flags@0 Sequence@4");
        Add<IommuTestCmd>(72, "Size@0 Op@4 Id@8 Reserved@12 AddReserved@16 MockDomain@16 CheckMap@16 Dirty@16 Last@64");
        Add<IommuTestCmdDirty>(48, "Flags@0 Iova@8 Length@16 PageSize@24 Uptr@32 OutNrDirty@40");
        Add<IommuTestCmdAccessPages>(32, "Flags@0 OutAccessPagesId@4 Iova@8 Length@16 Uptr@24");
        Add<IommuTestCmdAccessRw>(32, "Iova@0 Length@8 Uptr@16 Flags@24");
        Add<IommuTestCmdCheckRefs>(24, "Length@0 Uptr@8 Refs@16");
        Add<VfioIommuType1Info>(24, "Argsz@0 Flags@4 IovaPgsizes@8 CapOffset@16 Pad@20");
        Add<VfioInfoCapHeader>(8, "Id@0 Version@2 Next@4");
        Add<VfioIovaRange>(16, "Start@0 End@8");
        Add<VfioIommuType1InfoCapIovaRange>(16, "Header@0 NrIovas@8 Reserved@12");
        Add<VfioIommuType1InfoDmaAvail>(12, "Header@0 Avail@8");
        Add<VfioIommuType1DmaMap>(32, "Argsz@0 Flags@4 Vaddr@8 Iova@16 Size@24");
        Add<VfioIommuType1DmaUnmap>(24, "Argsz@0 Flags@4 Iova@8 Size@16");
        Add<VfioGroupStatus>(8, "Argsz@0 Flags@4");
        Add<VfioDeviceBindIommufd>(16, "Argsz@0 Flags@4 Iommufd@8 OutDevid@12");
        Add<VfioDeviceAttachIommufdPt>(16, "Argsz@0 Flags@4 PtId@8 Pasid@12");
        Add<VfioDeviceDetachIommufdPt>(12, "Argsz@0 Flags@4 Pasid@8");
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Struct_has_the_C_size_and_offsets_when_laid_out(Type type, int size, string fields)
    {
        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.Equal(size, (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!);
        foreach (var field in fields.Split(' '))
        {
            var (name, offset) = (field.Split('@')[0], int.Parse(field.Split('@')[1]));
            Assert.True(offset == (int)Marshal.OffsetOf(type, name), $"{type.Name}.{name}: expected offset {offset}, got {Marshal.OffsetOf(type, name)}");
        }
    }

    [Fact]
    public void Every_public_uapi_struct_has_a_layout_row()
    {
        var covered = Layouts().Select(row => (Type)row[0]).ToHashSet();
        var structs = typeof(IommuIoasMap).Assembly.GetTypes()
            .Where(t => t.IsValueType && t.IsPublic && t.Namespace == "Ioasid.Core.Uapi" && t.StructLayoutAttribute?.Value != LayoutKind.Auto && !t.IsEnum)
            .Where(t => t.Name.StartsWith("Iommu", StringComparison.Ordinal) || t.Name.StartsWith("Vfio", StringComparison.Ordinal))
            .Where(t => !t.Name.StartsWith("IommuTestCmd", StringComparison.Ordinal) || t == typeof(IommuTestCmd));
        Assert.Empty(structs.Where(t => !covered.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void Ioctl_numbers_are_IO_of_type_semicolon()
    {
        Assert.Equal(0x3B80u, IoctlNumbers.IommuDestroy);
        Assert.Equal(0x3B94u, IoctlNumbers.IommuHwQueueAlloc);
        Assert.Equal(0x3BA0u, IoctlNumbers.IommuTestCmd);
        Assert.Equal(0x3B64u, IoctlNumbers.VfioGetApiVersion);
        Assert.Equal(0x3B70u, IoctlNumbers.VfioIommuGetInfo);
        Assert.Equal(0x3B72u, IoctlNumbers.VfioIommuUnmapDma);
        Assert.Equal(0x3B76u, IoctlNumbers.VfioDeviceBindIommufd);
        Assert.Equal(0x3B78u, IoctlNumbers.VfioDeviceDetachIommufdPt);
    }
}
