using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Uapi;

namespace Ioasid.Core.Vfio;

/// <summary>
/// A legacy VFIO group file (<c>/dev/vfio/N</c>, drivers/vfio/group.c) used with an iommufd as its container:
/// VFIO_GROUP_SET_CONTAINER with an iommufd fd creates the context's compat IOAS if needed; each device then opened
/// with VFIO_GROUP_GET_DEVICE_FD is bound and attached to that IOAS on its own, so VFIO type1 MAP_DMA on the
/// container is what the device sees.
/// </summary>
public sealed class VfioGroupFile : IUapiFile
{
    private readonly FileTable _files;
    private readonly List<VfioDeviceFile> _opened = new();

    /// <summary>Opens the group file of <paramref name="group"/>.</summary>
    public VfioGroupFile(FileTable files, IommuCore core, IommuGroup group)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(group);
        _files = files;
        Core = core;
        Group = group;
    }

    /// <summary>The IOMMU layer of the group.</summary>
    public IommuCore Core { get; }

    /// <summary>The group.</summary>
    public IommuGroup Group { get; }

    /// <summary>The iommufd serving as the container, or null.</summary>
    public IommuFile? Container { get; private set; }

    /// <summary>The device files opened through this group that are still bound.</summary>
    public IReadOnlyList<VfioDeviceFile> OpenDevices
    {
        get
        {
            _opened.RemoveAll(file => file.Bound is not { IsDestroyed: false });
            return _opened;
        }
    }

    /// <inheritdoc />
    public int Ioctl(uint request, Span<byte> arg)
    {
        try
        {
            return request switch
            {
                IoctlNumbers.VfioGroupGetStatus => GetStatus(arg).ToNegative(),
                IoctlNumbers.VfioGroupSetContainer => SetContainer(arg).ToNegative(),
                IoctlNumbers.VfioGroupUnsetContainer => UnsetContainer().ToNegative(),
                IoctlNumbers.VfioGroupGetDeviceFd => GetDeviceFd(arg),
                _ => Errno.ENOTTY.ToNegative(),
            };
        }
        catch (IoasidException error)
        {
            return error.Errno.ToNegative();
        }
    }

    /// <inheritdoc />
    public int Ioctl(uint request, ulong value) =>
        request == IoctlNumbers.VfioGroupUnsetContainer ? Ioctl(request, Span<byte>.Empty) : Errno.EFAULT.ToNegative();

    /// <summary>Closing the group file releases its container (open device files keep their own binding).</summary>
    public void Release() => Container = null;

    private Errno GetStatus(Span<byte> arg)
    {
        var fault = ExtensibleStruct.ReadFixed(arg, out VfioGroupStatus status);
        if (fault != Errno.None)
        {
            return fault;
        }

        if (status.Argsz < 8)
        {
            return Errno.EINVAL;
        }

        status.Flags = UapiConstants.VfioGroupFlagsViable | (Container is null ? 0 : UapiConstants.VfioGroupFlagsContainerSet);
        return ExtensibleStruct.WriteFixed(arg, status);
    }

    private Errno SetContainer(Span<byte> arg)
    {
        if (arg.Length < sizeof(int))
        {
            return Errno.EFAULT;
        }

        var fd = BinaryPrimitives.ReadInt32LittleEndian(arg);
        if (fd < 0)
        {
            return Errno.EINVAL;
        }

        var file = _files.Get(fd);
        if (file is null)
        {
            return Errno.EBADF;
        }

        if (Container is not null)
        {
            return Errno.EINVAL;
        }

        if (file is not IommuFile iommufd)
        {
            return Errno.EBADFD;
        }

        iommufd.GetOrCreateCompatIoas();
        Container = iommufd;
        return Errno.None;
    }

    /// <summary>
    /// VFIO_GROUP_GET_DEVICE_FD: <paramref name="arg"/> holds the device's name (NUL-terminated or not). EINVAL without
    /// a container, ENODEV for a name not in this group; returns the new device fd.
    /// </summary>
    private int GetDeviceFd(ReadOnlySpan<byte> arg)
    {
        var end = arg.IndexOf((byte)0);
        var name = System.Text.Encoding.UTF8.GetString(end < 0 ? arg : arg[..end]);
        if (Container is not { } container)
        {
            return Errno.EINVAL.ToNegative();
        }

        IommuDevice? device = null;
        foreach (var candidate in Core.Devices)
        {
            if (candidate.Pci.Name == name && candidate.Group == Group)
            {
                device = candidate;
            }
        }

        if (device is null)
        {
            return Errno.ENODEV.ToNegative();
        }

        var file = VfioDeviceFile.OpenThroughGroup(_files, Core, device, container);
        _opened.Add(file);
        return _files.Install(file);
    }

    /// <summary>VFIO_GROUP_UNSET_CONTAINER: EINVAL without a container, EBUSY while a device of the group is open.</summary>
    private Errno UnsetContainer()
    {
        if (Container is null)
        {
            return Errno.EINVAL;
        }

        if (OpenDevices.Count > 0)
        {
            return Errno.EBUSY;
        }

        Container = null;
        return Errno.None;
    }
}
