using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Uapi;

namespace Ioasid.Core.Vfio;

/// <summary>
/// A legacy VFIO group file (<c>/dev/vfio/N</c>, drivers/vfio/group.c) used with an iommufd as its container:
/// VFIO_GROUP_SET_CONTAINER with an iommufd fd creates the context's compat IOAS if needed and binds and attaches the
/// group's devices to it, so VFIO type1 MAP_DMA on the container is what the devices see. (The kernel binds each
/// device when it is opened with GET_DEVICE_FD; here the group's devices are bound at SET_CONTAINER.)
/// </summary>
public sealed class VfioGroupFile : IUapiFile
{
    private readonly FileTable _files;
    private readonly List<IommufdDevice> _bound = new();

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

    /// <summary>The devices bound through this group, in the group's order.</summary>
    public IReadOnlyList<IommufdDevice> Devices => _bound;

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

    /// <summary>Closing the group file releases its container.</summary>
    public void Release()
    {
        if (Container is not null)
        {
            UnsetContainer();
        }
    }

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

        var ioas = iommufd.GetOrCreateCompatIoas();
        try
        {
            foreach (var device in Group.Devices)
            {
                var bound = iommufd.Context.BindDevice(Core, device);
                _bound.Add(bound);
                bound.Attach(ioas.Id);
            }
        }
        catch
        {
            UnbindAll();
            throw;
        }

        Container = iommufd;
        return Errno.None;
    }

    private Errno UnsetContainer()
    {
        if (Container is null)
        {
            return Errno.EINVAL;
        }

        UnbindAll();
        Container = null;
        return Errno.None;
    }

    private void UnbindAll()
    {
        foreach (var device in _bound)
        {
            if (!device.IsDestroyed)
            {
                device.Unbind();
            }
        }

        _bound.Clear();
    }
}
