using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Ioasid.Core.Uapi;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>One well-formed payload per iommufd command, built in a rig, with the result a kernel gives for it.</summary>
internal static class CommandPayloads
{
    public sealed record Payload(uint Request, uint MinSize, byte[] Bytes, Errno Expected);

    public static readonly string[] Names =
    [
        "DESTROY", "IOAS_ALLOC", "IOAS_ALLOW_IOVAS", "IOAS_COPY", "IOAS_IOVA_RANGES", "IOAS_MAP", "IOAS_UNMAP", "OPTION",
        "VFIO_IOAS", "HWPT_ALLOC", "GET_HW_INFO", "HWPT_SET_DIRTY_TRACKING", "HWPT_GET_DIRTY_BITMAP", "HWPT_INVALIDATE",
        "FAULT_QUEUE_ALLOC", "IOAS_MAP_FILE", "VIOMMU_ALLOC", "VDEVICE_ALLOC", "IOAS_CHANGE_PROCESS", "VEVENTQ_ALLOC",
        "HW_QUEUE_ALLOC", "TEST_CMD",
    ];

    public static Payload Build(string name, UapiRig rig)
    {
        const ulong page = 4096;
        switch (name)
        {
            case "DESTROY":
                return Make(IoctlNumbers.IommuDestroy, 8, new IommuDestroy { Id = rig.AllocIoas() }, Errno.None);
            case "IOAS_ALLOC":
                return Make(IoctlNumbers.IommuIoasAlloc, 12, new IommuIoasAlloc(), Errno.None);
            case "IOAS_ALLOW_IOVAS":
                return Make(IoctlNumbers.IommuIoasAllowIovas, 24, new IommuIoasAllowIovas { IoasId = rig.AllocIoas() }, Errno.None);
            case "IOAS_COPY":
            {
                var ioas = rig.AllocIoas();
                var iova = rig.MapOk(ioas, rig.Buffer(page), page);
                return Make(IoctlNumbers.IommuIoasCopy, 40, new IommuIoasCopy { Flags = 6, DstIoasId = ioas, SrcIoasId = ioas, Length = page, SrcIova = iova }, Errno.None);
            }
            case "IOAS_IOVA_RANGES":
                return Make(IoctlNumbers.IommuIoasIovaRanges, 32, new IommuIoasIovaRanges { IoasId = rig.AllocIoas(), NumIovas = 4, AllowedIovas = rig.Process.Mm.Map(page) }, Errno.None);
            case "IOAS_MAP":
                return Make(IoctlNumbers.IommuIoasMap, 40, new IommuIoasMap { Flags = 6, IoasId = rig.AllocIoas(), UserVa = rig.Buffer(page), Length = page }, Errno.None);
            case "IOAS_UNMAP":
            {
                var ioas = rig.AllocIoas();
                var iova = rig.MapOk(ioas, rig.Buffer(page), page);
                return Make(IoctlNumbers.IommuIoasUnmap, 24, new IommuIoasUnmap { IoasId = ioas, Iova = iova, Length = page }, Errno.None);
            }
            case "OPTION":
                return Make(IoctlNumbers.IommuOption, 24, new IommuOption { OptionId = 1, Op = 1, ObjectId = rig.AllocIoas() }, Errno.None);
            case "VFIO_IOAS":
                return Make(IoctlNumbers.IommuVfioIoas, 12, new IommuVfioIoas { Op = 1, IoasId = rig.AllocIoas() }, Errno.None);
            case "HWPT_ALLOC":
            {
                var ioas = rig.AllocIoas();
                var mock = rig.MockDomainOk(ioas);
                return Make(IoctlNumbers.IommuHwptAlloc, 24, new IommuHwptAlloc { DevId = mock.OutIdevId, PtId = ioas }, Errno.None);
            }
            case "GET_HW_INFO":
            {
                var mock = rig.MockDomainOk(rig.AllocIoas());
                return Make(IoctlNumbers.IommuGetHwInfo, 32, new IommuHwInfo { DevId = mock.OutIdevId, DataLen = 64, DataUptr = rig.Process.Mm.Map(page) }, Errno.None);
            }
            case "HWPT_SET_DIRTY_TRACKING":
            {
                return Make(IoctlNumbers.IommuHwptSetDirtyTracking, 16, new IommuHwptSetDirtyTracking { Flags = 1, HwptId = DirtyHwpt(rig, out _) }, Errno.None);
            }
            case "HWPT_GET_DIRTY_BITMAP":
            {
                var hwpt = DirtyHwpt(rig, out var iova);
                var enable = new IommuHwptSetDirtyTracking { Flags = 1, HwptId = hwpt };
                Assert.Equal(Errno.None, rig.Ioctl(IoctlNumbers.IommuHwptSetDirtyTracking, ref enable));
                var bitmap = new IommuHwptGetDirtyBitmap { HwptId = hwpt, Iova = iova, Length = 16 * page, PageSize = page, Data = rig.Process.Mm.Map(page) };
                return Make(IoctlNumbers.IommuHwptGetDirtyBitmap, 48, bitmap, Errno.None);
            }
            case "HWPT_INVALIDATE":
            {
                var mock = rig.MockDomainOk(rig.AllocIoas());
                return Make(IoctlNumbers.IommuHwptInvalidate, 32, new IommuHwptInvalidate { HwptId = mock.OutHwptId }, Errno.EINVAL);
            }
            case "FAULT_QUEUE_ALLOC":
                return Make(IoctlNumbers.IommuFaultQueueAlloc, 16, new IommuFaultAlloc(), Errno.EOPNOTSUPP);
            case "IOAS_MAP_FILE":
            {
                var fd = rig.Files.Install(rig.Machine.CreateMemFd("payload", page));
                return Make(IoctlNumbers.IommuIoasMapFile, 40, new IommuIoasMapFile { Flags = 6, IoasId = rig.AllocIoas(), Fd = fd, Length = page }, Errno.None);
            }
            case "VIOMMU_ALLOC":
            {
                var ioas = rig.AllocIoas();
                var mock = rig.MockDomainOk(ioas);
                return Make(IoctlNumbers.IommuViommuAlloc, 24, new IommuViommuAlloc { Type = 1, DevId = mock.OutIdevId, HwptId = mock.OutHwptId }, Errno.EOPNOTSUPP);
            }
            case "VDEVICE_ALLOC":
            {
                var mock = rig.MockDomainOk(rig.AllocIoas());
                return Make(IoctlNumbers.IommuVdeviceAlloc, 24, new IommuVdeviceAlloc { ViommuId = 40, DevId = mock.OutIdevId, VirtId = 1 }, Errno.ENOENT);
            }
            case "IOAS_CHANGE_PROCESS":
                return Make(IoctlNumbers.IommuIoasChangeProcess, 8, new IommuIoasChangeProcess(), Errno.None);
            case "VEVENTQ_ALLOC":
                return Make(IoctlNumbers.IommuVeventqAlloc, 28, new IommuVeventqAlloc { ViommuId = 1, Type = 1, VeventqDepth = 4 }, Errno.ENOENT);
            case "HW_QUEUE_ALLOC":
                return Make(IoctlNumbers.IommuHwQueueAlloc, 40, new IommuHwQueueAlloc { ViommuId = 1, Type = 1, Length = page, NestingParentIova = 0x100_0000 }, Errno.ENOENT);
            case "TEST_CMD":
                return Make(IoctlNumbers.IommuTestCmd, 68, new IommuTestCmd { Op = MockSelftest.OpMockDomain, Id = rig.AllocIoas() }, Errno.None);
            default:
                throw new ArgumentException(name);
        }
    }

    /// <summary>A DIRTY_TRACKING paging HWPT over an IOAS with 16 pages mapped at <paramref name="iova"/>.</summary>
    private static uint DirtyHwpt(UapiRig rig, out ulong iova)
    {
        var ioas = rig.AllocIoas();
        var mock = rig.MockDomainOk(ioas);
        var alloc = new IommuHwptAlloc { DevId = mock.OutIdevId, PtId = ioas, Flags = UapiConstants.HwptAllocDirtyTracking };
        Assert.Equal(Errno.None, rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref alloc));
        iova = rig.MapOk(ioas, rig.Buffer(16 * 4096), 16 * 4096);
        return alloc.OutHwptId;
    }

    private static Payload Make<T>(uint request, uint minSize, T value, Errno expected)
        where T : unmanaged
    {
        var bytes = ExtensibleStruct.ToBytes(value);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Unsafe.SizeOf<T>());
        return new Payload(request, minSize, bytes, expected);
    }

    /// <summary>The payload with its size field set to <paramref name="size"/> and its buffer <paramref name="length"/> bytes long (zero-extended or cut).</summary>
    public static byte[] Resized(byte[] bytes, uint size, int length)
    {
        var copy = new byte[length];
        bytes.AsSpan(0, Math.Min(bytes.Length, length)).CopyTo(copy);
        BinaryPrimitives.WriteUInt32LittleEndian(copy, size);
        return copy;
    }
}
