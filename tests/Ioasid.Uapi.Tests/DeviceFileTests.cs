using System.Text;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Core.Vfio;
using Ioasid.Drivers.Hardware;

namespace Ioasid.Uapi.Tests;

/// <summary>VFIO cdev ioctls on a device file: bind to an iommufd, attach/replace/detach its RID and PASIDs.</summary>
public sealed class DeviceFileTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly UapiRig _rig = new();
    private readonly int _deviceFd;
    private readonly Rid _rid = Rid.Create(1, 0, 0);

    public DeviceFileTests()
    {
        var device = _rig.Core.AddDevice(new PciDevice(_rid, "nic", pasidBits: 8));
        _deviceFd = _rig.Files.Install(new VfioDeviceFile(_rig.Files, _rig.Core, device));
    }

    public void Dispose()
    {
        _rig.Files.Close(_deviceFd);
        _rig.Dispose();
    }

    private Errno Bind(out uint devid, int iommufd = -2, uint argsz = 16, uint flags = 0)
    {
        var cmd = new VfioDeviceBindIommufd { Argsz = argsz, Flags = flags, Iommufd = iommufd == -2 ? _rig.Fd : iommufd };
        var rc = _rig.Ioctl(IoctlNumbers.VfioDeviceBindIommufd, ref cmd, _deviceFd);
        devid = cmd.OutDevid;
        return rc;
    }

    private Errno Attach(ref uint ptId, uint? pasid = null, uint argsz = 16, uint flags = 0)
    {
        var cmd = new VfioDeviceAttachIommufdPt { Argsz = argsz, Flags = flags | (pasid is null ? 0u : 1u), PtId = ptId, Pasid = pasid ?? 0 };
        var rc = _rig.Ioctl(IoctlNumbers.VfioDeviceAttachIommufdPt, ref cmd, _deviceFd);
        ptId = cmd.PtId;
        return rc;
    }

    private Errno Detach(uint? pasid = null, uint argsz = 12, uint flags = 0)
    {
        var cmd = new VfioDeviceDetachIommufdPt { Argsz = argsz, Flags = flags | (pasid is null ? 0u : 1u), Pasid = pasid ?? 0 };
        return _rig.Ioctl(IoctlNumbers.VfioDeviceDetachIommufdPt, ref cmd, _deviceFd);
    }

    private DmaResult Dma(ulong iova, byte[] buffer, Pasid? pasid = null)
    {
        var request = DmaRequest.ForRead(_rid, new Iova(iova), (ulong)buffer.Length);
        return _rig.Driver.Hardware.Dma(pasid is { } p ? request.WithPasid(p) : request, buffer);
    }

    [Fact]
    public void Bind_attach_map_lets_the_device_read_user_memory_and_detach_blocks_it()
    {
        Assert.Equal(Errno.None, Bind(out var devid));
        Assert.NotEqual(0u, devid);
        var ioas = _rig.AllocIoas();
        var pt = ioas;
        Assert.Equal(Errno.None, Attach(ref pt));
        Assert.NotEqual(ioas, pt); // the automatic HWPT comes back

        var va = _rig.Buffer(Page);
        _rig.Process.Mm.Write(va + 8, Encoding.ASCII.GetBytes("via cdev"));
        var iova = _rig.MapOk(ioas, va, Page);
        var buffer = new byte[8];
        Assert.True(Dma(iova + 8, buffer).IsSuccess);
        Assert.Equal("via cdev", Encoding.ASCII.GetString(buffer));

        Assert.Equal(Errno.None, Detach());
        Assert.False(Dma(iova + 8, buffer).IsSuccess);
        Assert.Equal(Errno.None, Detach()); // detaching again does nothing
    }

    [Fact]
    public void A_second_attach_replaces_the_first()
    {
        Assert.Equal(Errno.None, Bind(out _));
        var first = _rig.AllocIoas();
        var second = _rig.AllocIoas();
        var pt = first;
        Assert.Equal(Errno.None, Attach(ref pt));
        var firstHwpt = pt;
        pt = second;
        Assert.Equal(Errno.None, Attach(ref pt));
        Assert.NotEqual(firstHwpt, pt);
        Assert.Equal(Errno.ENOENT, _rig.Destroy(firstHwpt)); // the old automatic HWPT died with its last device

        var va = _rig.Buffer(Page, seed: 9);
        var iova = _rig.MapOk(second, va, Page);
        var buffer = new byte[4];
        Assert.True(Dma(iova, buffer).IsSuccess);
        Assert.Equal(9, buffer[0]);
    }

    [Fact]
    public void Bind_errors_are_EINVAL_EBADF_EBADFD_EFAULT()
    {
        Assert.Equal(Errno.EINVAL, Bind(out _, argsz: 15));
        Assert.Equal(Errno.EINVAL, Bind(out _, flags: 1));
        Assert.Equal(Errno.EINVAL, Bind(out _, iommufd: -1));
        Assert.Equal(Errno.EBADF, Bind(out _, iommufd: 77));
        var memfd = _rig.Files.Install(_rig.Machine.CreateMemFd("x", Page));
        Assert.Equal(Errno.EBADFD, Bind(out _, iommufd: memfd));
        Assert.Equal(Errno.EFAULT, _rig.IoctlRaw(IoctlNumbers.VfioDeviceBindIommufd, new byte[12], _deviceFd));
        Assert.Equal(Errno.None, Bind(out _));
        Assert.Equal(Errno.EINVAL, Bind(out _)); // bound twice
    }

    [Fact]
    public void Before_bind_attach_is_EINVAL_and_attach_errors_are_checked()
    {
        var ioas = _rig.AllocIoas();
        var pt = ioas;
        Assert.Equal(Errno.EINVAL, Attach(ref pt));
        Assert.Equal(Errno.None, Bind(out var devid));
        Assert.Equal(Errno.EINVAL, Attach(ref pt, argsz: 11));
        Assert.Equal(Errno.EINVAL, Attach(ref pt, flags: 2));
        Assert.Equal(Errno.EINVAL, Attach(ref pt, pasid: 5, argsz: 12));
        Assert.Equal(Errno.EFAULT, _rig.IoctlRaw(IoctlNumbers.VfioDeviceAttachIommufdPt, new byte[8], _deviceFd));
        pt = 99;
        Assert.Equal(Errno.ENOENT, Attach(ref pt));
        pt = devid;
        Assert.Equal(Errno.EINVAL, Attach(ref pt)); // a device is no page table
        Assert.Equal(Errno.EINVAL, Detach(argsz: 7));
        Assert.Equal(Errno.EINVAL, Detach(flags: 2));
        Assert.Equal(Errno.EINVAL, Detach(pasid: 3, argsz: 8));
        Assert.Equal(Errno.ENOTTY, _rig.IoctlRaw(0x3B79, new byte[16], _deviceFd));
    }

    [Fact]
    public void A_pasid_attaches_to_a_hwpt_independently_of_the_rid()
    {
        Assert.Equal(Errno.None, Bind(out var devid));
        var ioas = _rig.AllocIoas();
        var plain = new IommuHwptAlloc { DevId = devid, PtId = ioas };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref plain));
        var pt = plain.OutHwptId;
        Assert.Equal(Errno.EINVAL, Attach(ref pt, pasid: 7)); // not allocated with IOMMU_HWPT_ALLOC_PASID
        pt = ioas;
        Assert.Equal(Errno.EINVAL, Attach(ref pt, pasid: 7)); // an IOAS never serves a PASID

        var alloc = new IommuHwptAlloc { Flags = UapiConstants.HwptAllocPasid, DevId = devid, PtId = ioas };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref alloc));
        pt = alloc.OutHwptId;
        Assert.Equal(Errno.None, Attach(ref pt, pasid: 7));
        Assert.Equal(alloc.OutHwptId, pt);
        Assert.Equal(Errno.EBUSY, _rig.Destroy(alloc.OutHwptId));

        var va = _rig.Buffer(Page, seed: 3);
        var iova = _rig.MapOk(ioas, va, Page);
        var buffer = new byte[2];
        Assert.True(Dma(iova, buffer, new Pasid(7)).IsSuccess);
        Assert.False(Dma(iova, buffer).IsSuccess); // the RID is still blocked

        Assert.Equal(Errno.EINVAL, Attach(ref pt, pasid: 1u << 20));
        Assert.Equal(Errno.None, Detach(pasid: 7));
        Assert.False(Dma(iova, buffer, new Pasid(7)).IsSuccess);
        Assert.Equal(Errno.None, Detach(pasid: 7));
        Assert.Equal(Errno.None, _rig.Destroy(alloc.OutHwptId));
    }

    [Fact]
    public void Closing_the_device_file_unbinds_the_device()
    {
        Assert.Equal(Errno.None, Bind(out var devid));
        var pt = _rig.AllocIoas();
        Assert.Equal(Errno.None, Attach(ref pt));
        Assert.Equal(Errno.EBUSY, _rig.Destroy(devid));
        Assert.Equal(Errno.None, _rig.Files.Close(_deviceFd));
        Assert.Equal(Errno.ENOENT, _rig.Destroy(devid));
        Assert.Equal(Errno.ENOENT, _rig.Destroy(pt));
        _rig.Files.Install(new object()); // keep the fd number taken for Dispose's close
    }
}

/// <summary>Closing files in any order releases everything without errors.</summary>
public sealed class CloseOrderTests
{
    [Fact]
    public void Closing_the_iommufd_before_the_group_and_device_files_is_safe()
    {
        var rig = new UapiRig(asVfioContainer: true);
        var groupDevice = rig.Core.AddDevice(new Ioasid.Core.Platform.PciDevice(Rid.Create(6, 0, 0), "g"));
        var groupFd = rig.Files.Install(new VfioGroupFile(rig.Files, rig.Core, groupDevice.Group));
        var device = rig.Core.AddDevice(new Ioasid.Core.Platform.PciDevice(Rid.Create(7, 0, 0), "d"));
        var deviceFd = rig.Files.Install(new VfioDeviceFile(rig.Files, rig.Core, device));
        var fd = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(fd, rig.Fd);
        Assert.Equal(Errno.None, rig.IoctlRaw(IoctlNumbers.VfioGroupSetContainer, fd, groupFd));
        var groupDeviceFd = rig.Files.Ioctl(groupFd, IoctlNumbers.VfioGroupGetDeviceFd, "g\0"u8.ToArray());
        Assert.True(groupDeviceFd > 0);
        var bind = new VfioDeviceBindIommufd { Argsz = 16, Iommufd = rig.Fd };
        Assert.Equal(Errno.None, rig.Ioctl(IoctlNumbers.VfioDeviceBindIommufd, ref bind, deviceFd));
        var attach = new VfioDeviceAttachIommufdPt { Argsz = 16, PtId = 1 };
        Assert.Equal(Errno.None, rig.Ioctl(IoctlNumbers.VfioDeviceAttachIommufdPt, ref attach, deviceFd));

        var context = rig.File.Context;
        Assert.Equal(Errno.None, rig.Files.Close(rig.Fd));
        Assert.True(context.IsClosed);
        Assert.Equal(Errno.None, rig.Files.Close(groupFd));
        Assert.Equal(Errno.None, rig.Files.Close(deviceFd));
        Assert.Equal(Errno.None, rig.Files.Close(groupDeviceFd));
        Assert.Null(rig.Core.DmaOwner(groupDevice.Group));
        Assert.Null(rig.Core.DmaOwner(device.Group));
    }
}
