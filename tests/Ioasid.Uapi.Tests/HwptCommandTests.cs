using System.Buffers.Binary;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Core.Vfio;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>HWPT_ALLOC, GET_HW_INFO, dirty tracking and HWPT_INVALIDATE through raw ioctls.</summary>
public sealed class HwptCommandTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly UapiRig _rig = new();

    public void Dispose() => _rig.Dispose();

    private Errno Alloc(ref IommuHwptAlloc cmd) => _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref cmd);

    [Fact]
    public void Hwpt_alloc_makes_a_paging_hwpt_that_mirrors_existing_mappings()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var va = _rig.Buffer(2 * Page);
        var iova = _rig.MapOk(ioas, va, 2 * Page);
        var cmd = new IommuHwptAlloc { DevId = mock.OutIdevId, PtId = ioas };
        Assert.Equal(Errno.None, Alloc(ref cmd));
        Assert.NotEqual(mock.OutHwptId, cmd.OutHwptId);
        Assert.Equal(Errno.None, _rig.CheckMap(cmd.OutHwptId, iova, 2 * Page, va));
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 2 * Page, 1)); // pinned once for both domains
        Assert.Equal(Errno.None, _rig.Destroy(cmd.OutHwptId));
    }

    [Fact]
    public void Hwpt_alloc_errors_follow_the_kernel_order()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var noDirty = _rig.MockDomainOk(ioas, MockSelftest.DeviceNoDirty);
        IommuHwptAlloc Cmd() => new() { DevId = mock.OutIdevId, PtId = ioas };
        Errno Run(IommuHwptAlloc c) => Alloc(ref c);

        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Reserved = 1 }));
        Assert.Equal(Errno.EINVAL, Run(Cmd() with { DataLen = 8 }));
        Assert.Equal(Errno.EINVAL, Run(Cmd() with { DataType = 1 }));
        Assert.Equal(Errno.ENOENT, Run(Cmd() with { DevId = ioas }));
        Assert.Equal(Errno.EINVAL, Run(Cmd() with { PtId = 99 }));
        Assert.Equal(Errno.EINVAL, Run(Cmd() with { PtId = mock.OutIdevId }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Flags = 0x10 }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { DevId = noDirty.OutIdevId, Flags = UapiConstants.HwptAllocDirtyTracking }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Flags = UapiConstants.HwptFaultIdValid | UapiConstants.HwptAllocNestParent }));
        Assert.Equal(Errno.ENOENT, Run(Cmd() with { Flags = UapiConstants.HwptFaultIdValid, FaultId = 1 }));
        Assert.Equal(Errno.EFAULT, Run(Cmd() with { DataType = 1, DataLen = 24, DataUptr = 0x1000 }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { DataType = 1, DataLen = 24, DataUptr = _rig.Process.Mm.Map(Page) }));
        var objects = _rig.File.Context.ObjectCount;
        Assert.Equal(Errno.None, Run(Cmd() with { Flags = UapiConstants.HwptAllocNestParent | UapiConstants.HwptAllocDirtyTracking }));
        Assert.Equal(objects + 1, _rig.File.Context.ObjectCount);
    }

    [Fact]
    public void Nested_hwpt_alloc_on_the_mock_is_refused_as_by_a_driver_without_nesting()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var parent = new IommuHwptAlloc { DevId = mock.OutIdevId, PtId = ioas, Flags = UapiConstants.HwptAllocNestParent };
        Assert.Equal(Errno.None, Alloc(ref parent));
        var data = _rig.Process.Mm.Map(Page);
        IommuHwptAlloc Cmd() => new() { DevId = mock.OutIdevId, PtId = parent.OutHwptId, DataType = 1, DataLen = 24, DataUptr = data };
        Errno Run(IommuHwptAlloc c) => Alloc(ref c);
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Flags = UapiConstants.HwptAllocNestParent }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { DataType = 0, DataLen = 0 }));
        Assert.Equal(Errno.EFAULT, Run(Cmd() with { DataUptr = 0x2000 }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd())); // the mock has no domain_alloc_nested
    }

    [Fact]
    public void Get_hw_info_copies_the_blob_zero_fills_the_rest_and_reports_capabilities()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var buffer = _rig.Process.Mm.Map(Page);
        _rig.Process.Mm.Write(buffer, Enumerable.Repeat((byte)0xff, 32).ToArray());
        var cmd = new IommuHwInfo { DevId = mock.OutIdevId, DataLen = 32, DataUptr = buffer };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref cmd));
        Assert.Equal(MockIommuDriver.HwInfoType, cmd.OutDataType);
        Assert.Equal(8u, cmd.DataLen);
        Assert.Equal(UapiConstants.HwCapDirtyTracking, cmd.OutCapabilities);
        Assert.Equal(0, cmd.OutMaxPasidLog2);
        var bytes = new byte[32];
        _rig.Process.Mm.Read(buffer, bytes);
        Assert.Equal(MockIommuDriver.HwInfoTestRegister, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.All(bytes[8..], b => Assert.Equal(0, b));

        var shortBuffer = new IommuHwInfo { DevId = mock.OutIdevId, DataLen = 4, DataUptr = buffer + 64 };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref shortBuffer));
        Assert.Equal(8u, shortBuffer.DataLen); // the blob's real size comes back

        var none = new IommuHwInfo { DevId = mock.OutIdevId };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref none)); // data_len 0 with a NULL pointer

        var pasid = _rig.MockDomainOk(ioas, MockSelftest.DevicePasid | MockSelftest.DeviceNoDirty);
        var info = new IommuHwInfo { DevId = pasid.OutIdevId };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref info));
        Assert.Equal(MockSelftest.MockPasidWidth, info.OutMaxPasidLog2);
        Assert.Equal(0ul, info.OutCapabilities);
    }

    [Fact]
    public unsafe void Get_hw_info_errors_are_EOPNOTSUPP_ENOENT_EFAULT()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var flags = new IommuHwInfo { DevId = mock.OutIdevId, Flags = 2 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref flags));
        var reserved = new IommuHwInfo { DevId = mock.OutIdevId };
        reserved.Reserved[1] = 1;
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref reserved));
        var missing = new IommuHwInfo { DevId = ioas };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref missing));
        var fault = new IommuHwInfo { DevId = mock.OutIdevId, DataLen = 8, DataUptr = 0x3000 };
        Assert.Equal(Errno.EFAULT, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref fault));
        var wrongType = new IommuHwInfo { DevId = mock.OutIdevId, Flags = 1, InDataType = 5 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref wrongType));
        var rightType = new IommuHwInfo { DevId = mock.OutIdevId, Flags = 1, InDataType = MockIommuDriver.HwInfoType };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuGetHwInfo, ref rightType));
    }

    [Fact]
    public void Dirty_tracking_reports_the_pages_a_device_wrote()
    {
        var rid = Rid.Create(3, 0, 0);
        var device = _rig.Core.AddDevice(new PciDevice(rid, "dirty-nic"));
        var deviceFd = _rig.Files.Install(new VfioDeviceFile(_rig.Files, _rig.Core, device));
        var bind = new VfioDeviceBindIommufd { Argsz = 16, Iommufd = _rig.Fd };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.VfioDeviceBindIommufd, ref bind, deviceFd));
        var ioas = _rig.AllocIoas();
        var alloc = new IommuHwptAlloc { DevId = bind.OutDevid, PtId = ioas, Flags = UapiConstants.HwptAllocDirtyTracking };
        Assert.Equal(Errno.None, Alloc(ref alloc));
        var attach = new VfioDeviceAttachIommufdPt { Argsz = 16, PtId = alloc.OutHwptId };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.VfioDeviceAttachIommufdPt, ref attach, deviceFd));
        var iova = _rig.MapOk(ioas, _rig.Buffer(8 * Page), 8 * Page);

        var enable = new IommuHwptSetDirtyTracking { Flags = 1, HwptId = alloc.OutHwptId };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptSetDirtyTracking, ref enable));
        Assert.True(_rig.Driver.Hardware.Dma(DmaRequest.ForWrite(rid, new Iova(iova + 3 * Page + 5), 2), new byte[2]).IsSuccess);

        var bitmap = _rig.Process.Mm.Map(Page);
        var read = new IommuHwptGetDirtyBitmap { HwptId = alloc.OutHwptId, Iova = iova, Length = 8 * Page, PageSize = Page, Data = bitmap, Flags = 1 };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptGetDirtyBitmap, ref read));
        Assert.Equal(1ul << 3, ReadU64(bitmap));

        _rig.Process.Mm.Write(bitmap, new byte[8]);
        read.Flags = 0;
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptGetDirtyBitmap, ref read)); // NO_CLEAR kept it; now cleared
        Assert.Equal(1ul << 3, ReadU64(bitmap));
        _rig.Process.Mm.Write(bitmap, new byte[8]);
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptGetDirtyBitmap, ref read));
        Assert.Equal(0ul, ReadU64(bitmap));
        _rig.Files.Close(deviceFd);
    }

    [Fact]
    public void Dirty_tracking_errors_follow_the_kernel_order()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var alloc = new IommuHwptAlloc { DevId = mock.OutIdevId, PtId = ioas, Flags = UapiConstants.HwptAllocDirtyTracking };
        Assert.Equal(Errno.None, Alloc(ref alloc));
        var iova = _rig.MapOk(ioas, _rig.Buffer(4 * Page), 4 * Page);

        Errno Set(uint flags, uint hwpt)
        {
            var c = new IommuHwptSetDirtyTracking { Flags = flags, HwptId = hwpt };
            return _rig.Ioctl(IoctlNumbers.IommuHwptSetDirtyTracking, ref c);
        }

        Assert.Equal(Errno.EOPNOTSUPP, Set(2, alloc.OutHwptId));
        Assert.Equal(Errno.ENOENT, Set(1, ioas));
        Assert.Equal(Errno.EOPNOTSUPP, Set(1, mock.OutHwptId)); // allocated without DIRTY_TRACKING
        Assert.Equal(Errno.None, Set(1, alloc.OutHwptId));

        var bitmap = _rig.Process.Mm.Map(Page);
        IommuHwptGetDirtyBitmap Cmd() => new() { HwptId = alloc.OutHwptId, Iova = iova, Length = 4 * Page, PageSize = Page, Data = bitmap };
        Errno Get(IommuHwptGetDirtyBitmap c) => _rig.Ioctl(IoctlNumbers.IommuHwptGetDirtyBitmap, ref c);
        Assert.Equal(Errno.None, Get(Cmd()));
        Assert.Equal(Errno.EOPNOTSUPP, Get(Cmd() with { Flags = 2 }));
        Assert.Equal(Errno.EOPNOTSUPP, Get(Cmd() with { Reserved = 1 }));
        Assert.Equal(Errno.ENOENT, Get(Cmd() with { HwptId = ioas }));
        Assert.Equal(Errno.EOVERFLOW, Get(Cmd() with { Iova = ulong.MaxValue - Page + 1, Length = 2 * Page }));
        Assert.Equal(Errno.EINVAL, Get(Cmd() with { Iova = iova + 1 }));
        Assert.Equal(Errno.EINVAL, Get(Cmd() with { PageSize = 0 }));
        Assert.Equal(Errno.EINVAL, Get(Cmd() with { PageSize = 2 * Page, Iova = iova + Page }));
        Assert.Equal(Errno.EINVAL, Get(Cmd() with { Length = 8 * Page })); // past the mapping
        Assert.Equal(Errno.EFAULT, Get(Cmd() with { Data = 0x4000 }));
        Assert.Equal(Errno.EOPNOTSUPP, Get(Cmd() with { HwptId = mock.OutHwptId }));
    }

    [Fact]
    public void Invalidate_writes_entry_num_back_and_refuses_paging_hwpts()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        var entries = _rig.Process.Mm.Map(Page);
        IommuHwptInvalidate Cmd() => new() { HwptId = mock.OutHwptId, DataUptr = entries, EntryLen = 24, EntryNum = 2 };
        var reserved = Cmd() with { Reserved = 1 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref reserved));
        Assert.Equal(2u, reserved.EntryNum);
        var noPointer = Cmd() with { DataUptr = 0 };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref noPointer));
        var noLength = Cmd() with { EntryLen = 0 };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref noLength));
        var missing = Cmd() with { HwptId = 77 };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref missing));
        Assert.Equal(0u, missing.EntryNum);
        var paging = Cmd();
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref paging));
        Assert.Equal(0u, paging.EntryNum);
        var ioasTarget = Cmd() with { HwptId = ioas };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref ioasTarget));
    }

    private ulong ReadU64(ulong va)
    {
        var bytes = new byte[8];
        _rig.Process.Mm.Read(va, bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }
}
