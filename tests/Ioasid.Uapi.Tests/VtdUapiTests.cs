using System.Buffers.Binary;
using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Core.Vfio;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// The nesting commands against the VT-d model, only through ioctls: GET_HW_INFO returns <c>iommu_hw_info_vtd</c>,
/// a VTD_S1 nested HWPT over a NEST_PARENT translates a user stage-1 table, and HWPT_INVALIDATE takes
/// <c>iommu_hwpt_vtd_s1_invalidate</c> entries.
/// </summary>
public sealed class VtdUapiTests : IDisposable
{
    private const ulong Page = 4096;
    private const ulong Gpa = 0x10_0000;
    private const ulong S1Iova = 0x7654_3000;
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly FileTable _files;
    private readonly IommuCore _core = new();
    private readonly VtdUnit _unit;
    private readonly int _iommufd;
    private readonly int _deviceFd;
    private readonly Rid _rid = Rid.Create(1, 0, 0);
    private readonly ulong _va;

    public VtdUapiTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _files = new FileTable(_process);
        var driver = new VtdIommuDriver(_core, _machine.Memory);
        _unit = driver.AddUnit("dmar0");
        _core.RegisterDriver(driver.Ops);
        _iommufd = _files.OpenIommu();
        _deviceFd = _files.Install(new VfioDeviceFile(_files, _core, _core.AddDevice(new PciDevice(_rid, "vf", pasidBits: 8))));
        _va = _process.Mm.Map(8 * Page);
    }

    public void Dispose()
    {
        _files.Close(_deviceFd);
        _files.Close(_iommufd);
    }

    private Errno Ioctl<T>(uint request, ref T cmd, int fd = -1)
        where T : unmanaged
    {
        var bytes = ExtensibleStruct.ToBytes(cmd);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
        }

        var rc = _files.Ioctl(fd < 0 ? _iommufd : fd, request, bytes);
        cmd = ExtensibleStruct.FromBytes<T>(bytes);
        return UapiRig.ToErrno(rc);
    }

    private void WriteEntry(int page, int index, ulong value) =>
        _process.Mm.Write(_va + ((ulong)page * Page) + ((ulong)index * 8), BitConverter.GetBytes(value));

    [Fact]
    public void A_vtd_s1_nested_hwpt_translates_the_user_table_and_takes_invalidations()
    {
        var bind = new VfioDeviceBindIommufd { Argsz = 16, Iommufd = _iommufd };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.VfioDeviceBindIommufd, ref bind, _deviceFd));

        var blob = _process.Mm.Map(Page);
        var info = new IommuHwInfo { DevId = bind.OutDevid, DataLen = 64, DataUptr = blob };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuGetHwInfo, ref info));
        Assert.Equal(1u, info.OutDataType); // IOMMU_HW_INFO_TYPE_INTEL_VTD
        Assert.Equal(24u, info.DataLen);
        Assert.Equal(8, info.OutMaxPasidLog2); // 8 PASID bits

        var alloc = new IommuIoasAlloc();
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuIoasAlloc, ref alloc));
        var map = new IommuIoasMap { Flags = 7, IoasId = alloc.OutIoasId, UserVa = _va, Length = 8 * Page, Iova = Gpa };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuIoasMap, ref map));

        // The guest's 4-level first-stage table in pages 0-3 of the region; S1Iova → page 4.
        WriteEntry(0, (int)((S1Iova >> 39) & 511), FlPte.Table(new PhysAddr(Gpa + 0x1000)));
        WriteEntry(1, (int)((S1Iova >> 30) & 511), FlPte.Table(new PhysAddr(Gpa + 0x2000)));
        WriteEntry(2, (int)((S1Iova >> 21) & 511), FlPte.Table(new PhysAddr(Gpa + 0x3000)));
        WriteEntry(3, (int)((S1Iova >> 12) & 511), FlPte.Leaf(new PhysAddr(Gpa + 4 * Page), 1, true));
        _process.Mm.Write(_va + 4 * Page + 0x20, Encoding.ASCII.GetBytes("nested!"));

        var parent = new IommuHwptAlloc { DevId = bind.OutDevid, PtId = alloc.OutIoasId, Flags = UapiConstants.HwptAllocNestParent };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuHwptAlloc, ref parent));
        var s1 = _process.Mm.Map(Page);
        _process.Mm.Write(s1, ExtensibleStruct.ToBytes(new IommuHwptVtdS1 { PgtblAddr = Gpa, AddrWidth = 48 }));
        var nested = new IommuHwptAlloc { DevId = bind.OutDevid, PtId = parent.OutHwptId, DataType = 1, DataLen = 24, DataUptr = s1 };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuHwptAlloc, ref nested));

        var attach = new VfioDeviceAttachIommufdPt { Argsz = 16, PtId = nested.OutHwptId };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.VfioDeviceAttachIommufdPt, ref attach, _deviceFd));
        Assert.Equal(nested.OutHwptId, attach.PtId);
        var buffer = new byte[7];
        Assert.True(_unit.Hardware.Dma(new DmaRequest(_rid, null, new Iova(S1Iova + 0x20), 7, DmaAccess.Read), buffer).IsSuccess);
        Assert.Equal("nested!", Encoding.ASCII.GetString(buffer));

        var entries = _process.Mm.Map(Page);
        _process.Mm.Write(entries, ExtensibleStruct.ToBytes(new IommuHwptVtdS1Invalidate { Addr = S1Iova, Npages = 1, Flags = 1 }));
        _process.Mm.Write(entries + 24, ExtensibleStruct.ToBytes(new IommuHwptVtdS1Invalidate { Addr = 0, Npages = ulong.MaxValue }));
        var invalidate = new IommuHwptInvalidate { HwptId = nested.OutHwptId, DataUptr = entries, DataType = 0, EntryLen = 24, EntryNum = 2 };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuHwptInvalidate, ref invalidate));
        Assert.Equal(2u, invalidate.EntryNum);

        var probe = new IommuHwptInvalidate { HwptId = nested.OutHwptId, DataType = 0 };
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuHwptInvalidate, ref probe));
        var wrongType = new IommuHwptInvalidate { HwptId = nested.OutHwptId, DataType = 1 };
        Assert.Equal(Errno.EINVAL, Ioctl(IoctlNumbers.IommuHwptInvalidate, ref wrongType));
        var onParent = invalidate with { HwptId = parent.OutHwptId, EntryNum = 2 };
        Assert.Equal(Errno.EINVAL, Ioctl(IoctlNumbers.IommuHwptInvalidate, ref onParent));
        Assert.Equal(0u, onParent.EntryNum);
    }
}
