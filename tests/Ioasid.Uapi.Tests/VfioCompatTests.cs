using System.Buffers.Binary;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Core.Vfio;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// VFIO type1 through an iommufd opened as <c>/dev/vfio/vfio</c>: a group joins the container, MAP_DMA / UNMAP_DMA on
/// the container are what the group's device sees through the mock hardware, with type1 and type1v2 unmap rules.
/// </summary>
public sealed class VfioCompatTests : IDisposable
{
    private const ulong Page = 4096;
    private const ulong Iova = 0x0100_0000;
    private readonly UapiRig _rig = new(asVfioContainer: true);
    private readonly Rid _rid = Rid.Create(2, 0, 0);
    private readonly int _groupFd;

    public VfioCompatTests()
    {
        var device = _rig.Core.AddDevice(new PciDevice(_rid, "gpu"));
        _groupFd = _rig.Files.Install(new VfioGroupFile(_rig.Files, _rig.Core, device.Group));
    }

    public void Dispose()
    {
        _rig.Files.Close(_groupFd);
        _rig.Dispose();
    }

    private int Value(uint request, ulong value) => _rig.Files.Ioctl(_rig.Fd, request, value);

    private Errno SetContainer(int fd)
    {
        var arg = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(arg, fd);
        return _rig.IoctlRaw(IoctlNumbers.VfioGroupSetContainer, arg, _groupFd);
    }

    /// <summary>The VFIO sequence: group joins the container, the IOMMU type is chosen, the device is opened.</summary>
    private int Join(ulong type = UapiConstants.VfioType1v2Iommu)
    {
        Assert.Equal(Errno.None, SetContainer(_rig.Fd));
        Assert.Equal(0, Value(IoctlNumbers.VfioSetIommu, type));
        return OpenDevice();
    }

    private int OpenDevice(string name = "gpu")
    {
        var fd = _rig.Files.Ioctl(_groupFd, IoctlNumbers.VfioGroupGetDeviceFd, System.Text.Encoding.ASCII.GetBytes(name + "\0"));
        Assert.True(fd > 0, $"GET_DEVICE_FD returned {fd}");
        return fd;
    }

    private Errno MapDma(ulong vaddr, ulong iova, ulong size, uint flags = 3, uint argsz = 32)
    {
        var cmd = new VfioIommuType1DmaMap { Argsz = argsz, Flags = flags, Vaddr = vaddr, Iova = iova, Size = size };
        return _rig.Ioctl(IoctlNumbers.VfioIommuMapDma, ref cmd);
    }

    private Errno UnmapDma(ulong iova, ulong size, out ulong unmapped, uint flags = 0, uint argsz = 24)
    {
        var cmd = new VfioIommuType1DmaUnmap { Argsz = argsz, Flags = flags, Iova = iova, Size = size };
        var rc = _rig.Ioctl(IoctlNumbers.VfioIommuUnmapDma, ref cmd);
        unmapped = cmd.Size;
        return rc;
    }

    private bool DeviceReads(ulong iova, out byte first)
    {
        var buffer = new byte[1];
        var ok = _rig.Driver.Hardware.Dma(DmaRequest.ForRead(_rid, new Iova(iova), 1), buffer).IsSuccess;
        first = buffer[0];
        return ok;
    }

    [Fact]
    public void Api_version_and_extensions_are_those_of_the_iommufd_compat_layer()
    {
        Assert.Equal(0, Value(IoctlNumbers.VfioGetApiVersion, 0));
        Assert.Equal(1, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioType1Iommu));
        Assert.Equal(1, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioType1v2Iommu));
        Assert.Equal(1, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioUnmapAll));
        Assert.Equal(0, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioType1NestingIommu));
        Assert.Equal(0, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioUpdateVaddr));
        Assert.Equal(0, Value(IoctlNumbers.VfioCheckExtension, 2));
        Assert.Equal(-(int)Errno.ENODEV, Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioDmaCcIommu));
        Assert.Equal(-(int)Errno.EINVAL, Value(IoctlNumbers.VfioSetIommu, 2));
        Assert.Equal(-(int)Errno.ENODEV, Value(IoctlNumbers.VfioSetIommu, UapiConstants.VfioType1v2Iommu));
        Assert.Equal(Errno.ENODEV, MapDma(0x10000, Iova, Page));
    }

    [Fact]
    public void Set_container_creates_the_compat_ioas_and_attaches_the_group()
    {
        Assert.Equal(Errno.EINVAL, SetContainer(-1));
        Assert.Equal(Errno.EBADF, SetContainer(55));
        Assert.Equal(Errno.EBADFD, SetContainer(_rig.Files.Install(_rig.Machine.CreateMemFd("m", Page))));
        Assert.Equal(Errno.EFAULT, _rig.IoctlRaw(IoctlNumbers.VfioGroupSetContainer, new byte[2], _groupFd));
        Assert.Equal(Errno.None, SetContainer(_rig.Fd));
        Assert.Equal(Errno.EINVAL, SetContainer(_rig.Fd));

        var status = new VfioGroupStatus { Argsz = 8 };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.VfioGroupGetStatus, ref status, _groupFd));
        Assert.Equal(UapiConstants.VfioGroupFlagsViable | UapiConstants.VfioGroupFlagsContainerSet, status.Flags);

        Assert.Equal(-(int)Errno.ENODEV, _rig.Files.Ioctl(_groupFd, IoctlNumbers.VfioGroupGetDeviceFd, "nic\0"u8.ToArray()));
        var deviceFd = OpenDevice();
        var bind = new VfioDeviceBindIommufd { Argsz = 16, Iommufd = _rig.Fd };
        Assert.Equal(Errno.EINVAL, _rig.Ioctl(IoctlNumbers.VfioDeviceBindIommufd, ref bind, deviceFd)); // opened through the group

        var get = new IommuVfioIoas { Op = UapiConstants.VfioIoasGet };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuVfioIoas, ref get));
        Assert.Equal(1u, get.IoasId);
        Assert.InRange(Value(IoctlNumbers.VfioCheckExtension, UapiConstants.VfioDmaCcIommu), 0, 1); // a compat IOAS now exists

        Assert.Equal(Errno.EBUSY, _rig.IoctlRaw(IoctlNumbers.VfioGroupUnsetContainer, [], _groupFd)); // the device is open
        Assert.Equal(Errno.None, _rig.Files.Close(deviceFd));
        Assert.Equal(Errno.None, _rig.IoctlRaw(IoctlNumbers.VfioGroupUnsetContainer, [], _groupFd));
        Assert.Equal(Errno.EINVAL, _rig.IoctlRaw(IoctlNumbers.VfioGroupUnsetContainer, [], _groupFd));
        Assert.Equal(-(int)Errno.EINVAL, _rig.Files.Ioctl(_groupFd, IoctlNumbers.VfioGroupGetDeviceFd, "gpu\0"u8.ToArray()));
    }

    [Fact]
    public void Map_dma_is_seen_by_the_device_and_unmap_dma_takes_it_away()
    {
        Join();
        var va = _rig.Buffer(4 * Page, seed: 0x40);
        Assert.Equal(Errno.None, MapDma(va, Iova, 4 * Page));
        Assert.True(DeviceReads(Iova + 3 * Page, out var first));
        Assert.Equal(unchecked((byte)(0x40 + 3 * Page * 7)), first);

        Assert.Equal(Errno.EEXIST, MapDma(va, Iova + Page, Page));
        Assert.Equal(Errno.None, UnmapDma(Iova, 4 * Page, out var unmapped));
        Assert.Equal(4 * Page, unmapped);
        Assert.False(DeviceReads(Iova, out _));
    }

    [Fact]
    public void Type1v2_refuses_a_partial_unmap_with_ENOENT_and_reports_zero_bytes()
    {
        Join();
        Assert.Equal(Errno.None, MapDma(_rig.Buffer(4 * Page), Iova, 4 * Page));
        Assert.Equal(Errno.ENOENT, UnmapDma(Iova + Page, Page, out var unmapped));
        Assert.Equal(0ul, unmapped);
        Assert.True(DeviceReads(Iova + Page, out _));
        Assert.Equal(Errno.ENOENT, UnmapDma(Iova + 16 * Page, Page, out unmapped)); // an empty range
    }

    [Fact]
    public void Type1_unmaps_the_middle_of_an_earlier_map()
    {
        Join(UapiConstants.VfioType1Iommu);
        var va = _rig.Buffer(4 * Page, seed: 5);
        Assert.Equal(Errno.None, MapDma(va, Iova, 4 * Page));
        Assert.Equal(Errno.None, UnmapDma(Iova + Page, Page, out var unmapped));
        Assert.Equal(Page, unmapped);
        Assert.True(DeviceReads(Iova, out _));
        Assert.False(DeviceReads(Iova + Page, out _));
        Assert.True(DeviceReads(Iova + 2 * Page, out var third));
        Assert.Equal(unchecked((byte)(5 + 2 * Page * 7)), third);
        Assert.Equal(Errno.EINVAL, UnmapDma(Iova + 2 * Page + 8, Page, out _)); // the cut must be page aligned
        Assert.Equal(Errno.None, UnmapDma(Iova, 4 * Page, out unmapped));
        Assert.Equal(3 * Page, unmapped);
        Assert.Equal(Errno.None, _rig.CheckRefs(va, 4 * Page, 0));
    }

    [Fact]
    public void Type1_cannot_be_chosen_once_the_domain_holds_mappings()
    {
        Assert.Equal(Errno.None, SetContainer(_rig.Fd));
        OpenDevice();
        Assert.Equal(Errno.None, MapDma(_rig.Buffer(Page), Iova, Page));
        Assert.Equal(-(int)Errno.EINVAL, Value(IoctlNumbers.VfioSetIommu, UapiConstants.VfioType1Iommu));
        Assert.Equal(0, Value(IoctlNumbers.VfioSetIommu, UapiConstants.VfioType1v2Iommu));
    }

    [Fact]
    public void Unmap_all_needs_zero_iova_and_size()
    {
        Join();
        Assert.Equal(Errno.None, MapDma(_rig.Buffer(2 * Page), Iova, Page));
        Assert.Equal(Errno.None, MapDma(_rig.Buffer(2 * Page), Iova + 8 * Page, 2 * Page));
        Assert.Equal(Errno.EINVAL, UnmapDma(Iova, 0, out _, flags: UapiConstants.VfioDmaUnmapFlagAll));
        Assert.Equal(Errno.None, UnmapDma(0, 0, out var unmapped, flags: UapiConstants.VfioDmaUnmapFlagAll));
        Assert.Equal(3 * Page, unmapped);
    }

    [Fact]
    public void Map_and_unmap_dma_reject_short_argsz_and_unknown_flags()
    {
        Join();
        var va = _rig.Buffer(Page);
        Assert.Equal(Errno.EINVAL, MapDma(va, Iova, Page, argsz: 31));
        Assert.Equal(Errno.EINVAL, MapDma(va, Iova, Page, flags: 4)); // VADDR
        Assert.Equal(Errno.EFAULT, _rig.IoctlRaw(IoctlNumbers.VfioIommuMapDma, new byte[24]));
        Assert.Equal(Errno.EINVAL, UnmapDma(Iova, Page, out _, argsz: 23));
        Assert.Equal(Errno.EINVAL, UnmapDma(Iova, Page, out _, flags: 1)); // GET_DIRTY_BITMAP
        Assert.Equal(Errno.EINVAL, UnmapDma(Iova, 0, out _));
        Assert.Equal(Errno.EFAULT, _rig.IoctlRaw(IoctlNumbers.VfioIommuUnmapDma, new byte[16]));
    }

    [Fact]
    public void Get_info_reports_page_sizes_and_the_capability_chain_within_argsz()
    {
        Assert.Equal(Errno.ENODEV, GetInfo(new byte[24], 24));
        Join();
        Assert.Equal(Errno.EINVAL, GetInfo(new byte[24], 15));

        var small = new byte[32];
        small.AsSpan(16).Fill(0xcc);
        Assert.Equal(Errno.None, GetInfo(small, 16));
        var info = ExtensibleStruct.FromBytes<VfioIommuType1Info>(small);
        Assert.Equal(24u + 12 + 16 + 16, info.Argsz);
        Assert.Equal(3u, info.Flags);
        Assert.NotEqual(0ul, info.IovaPgsizes & Page);
        Assert.Equal(0ul, info.IovaPgsizes & (Page - 1));
        Assert.All(small[16..], b => Assert.Equal(0xcc, b)); // nothing past argsz

        var full = new byte[info.Argsz + 8];
        full.AsSpan((int)info.Argsz).Fill(0xcc);
        Assert.Equal(Errno.None, GetInfo(full, info.Argsz));
        info = ExtensibleStruct.FromBytes<VfioIommuType1Info>(full);
        Assert.Equal(24u, info.CapOffset);
        var dmaAvail = ExtensibleStruct.FromBytes<VfioIommuType1InfoDmaAvail>(full.AsSpan(24));
        Assert.Equal((ushort)3, dmaAvail.Header.Id);
        Assert.Equal(36u, dmaAvail.Header.Next);
        Assert.Equal(uint.MaxValue, dmaAvail.Avail);
        var ranges = ExtensibleStruct.FromBytes<VfioIommuType1InfoCapIovaRange>(full.AsSpan(36));
        Assert.Equal((ushort)1, ranges.Header.Id);
        Assert.Equal(0u, ranges.Header.Next);
        Assert.Equal(1u, ranges.NrIovas);
        var range = ExtensibleStruct.FromBytes<VfioIovaRange>(full.AsSpan(52));
        Assert.Equal((MockIommuDriver.ApertureStart, MockIommuDriver.ApertureLast), (range.Start, range.End));
        Assert.All(full[(int)info.Argsz..], b => Assert.Equal(0xcc, b));
    }

    private Errno GetInfo(byte[] buffer, uint argsz)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, argsz);
        return _rig.IoctlRaw(IoctlNumbers.VfioIommuGetInfo, buffer);
    }
}
