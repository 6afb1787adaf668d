using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Uapi;

namespace Ioasid.Core.Vfio;

/// <summary>
/// A VFIO device cdev (<c>/dev/vfio/devices/vfioN</c>, drivers/vfio/device_cdev.c): VFIO_DEVICE_BIND_IOMMUFD binds the
/// device to an iommufd, then VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH move its RID or a PASID between IOASes and
/// HWPTs (a second attach without a detach is a replace). Before the bind every other request is EINVAL.
/// </summary>
public sealed class VfioDeviceFile : IUapiFile
{
    private const int BindSize = 16;       // offsetofend(struct vfio_device_bind_iommufd, out_devid)
    private const int AttachMinSize = 12;  // offsetofend(struct vfio_device_attach_iommufd_pt, pt_id)
    private const int AttachPasidSize = 16;
    private const int DetachMinSize = 8;   // offsetofend(struct vfio_device_detach_iommufd_pt, flags)
    private const int DetachPasidSize = 12;

    private readonly FileTable _files;
    private readonly HashSet<uint> _pasids = new();
    private bool _ridAttached;

    /// <summary>Opens the cdev of <paramref name="device"/>; fds in BIND are looked up in <paramref name="files"/>.</summary>
    public VfioDeviceFile(FileTable files, IommuCore core, IommuDevice device)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(device);
        _files = files;
        Core = core;
        Device = device;
    }

    /// <summary>The IOMMU layer the device belongs to.</summary>
    public IommuCore Core { get; }

    /// <summary>The device.</summary>
    public IommuDevice Device { get; }

    /// <summary>
    /// <c>vfio_df_group_open</c>: a device file opened through its group (VFIO_GROUP_GET_DEVICE_FD) on an iommufd
    /// container. The device is bound to the container's context and attached to its compat IOAS right away, as the
    /// kernel's <c>vfio_iommufd_compat_attach_ioas</c> does; the cdev bind/attach ioctls are then refused (EINVAL).
    /// </summary>
    internal static VfioDeviceFile OpenThroughGroup(FileTable files, IommuCore core, IommuDevice device, IommuFile container)
    {
        var file = new VfioDeviceFile(files, core, device) { _openedThroughGroup = true };
        var ioas = container.GetOrCreateCompatIoas();
        var bound = container.Context.BindDevice(core, device);
        try
        {
            bound.Attach(ioas.Id);
        }
        catch
        {
            bound.Unbind();
            throw;
        }

        file.Bound = bound;
        file._ridAttached = true;
        return file;
    }

    private bool _openedThroughGroup;

    /// <summary>The iommufd binding after VFIO_DEVICE_BIND_IOMMUFD, or null.</summary>
    public IommufdDevice? Bound { get; private set; }

    /// <inheritdoc />
    public int Ioctl(uint request, Span<byte> arg)
    {
        try
        {
            if (request == IoctlNumbers.VfioDeviceBindIommufd)
            {
                return Bind(arg).ToNegative();
            }

            if (Bound is null)
            {
                return Errno.EINVAL.ToNegative(); // no access until bound
            }

            return request switch
            {
                IoctlNumbers.VfioDeviceAttachIommufdPt => Attach(arg).ToNegative(),
                IoctlNumbers.VfioDeviceDetachIommufdPt => Detach(arg).ToNegative(),
                _ => Errno.ENOTTY.ToNegative(), // the device driver's own ioctls are not modelled
            };
        }
        catch (IoasidException error)
        {
            return error.Errno.ToNegative();
        }
    }

    /// <inheritdoc />
    public int Ioctl(uint request, ulong value) => Ioctl(request, Span<byte>.Empty);

    /// <summary>Closing the cdev: detaches everything and unbinds.</summary>
    public void Release()
    {
        if (Bound is { IsDestroyed: false } bound)
        {
            bound.Unbind();
        }

        Bound = null;
        _pasids.Clear();
        _ridAttached = false;
    }

    private Errno Bind(Span<byte> arg)
    {
        var fault = ExtensibleStruct.ReadFixed(arg, out VfioDeviceBindIommufd bind);
        if (fault != Errno.None)
        {
            return fault;
        }

        if (bind.Argsz < BindSize || bind.Flags != 0 || bind.Iommufd < 0)
        {
            return Errno.EINVAL;
        }

        if (Bound is not null || _openedThroughGroup)
        {
            return Errno.EINVAL; // one device cannot be bound twice
        }

        var file = _files.Get(bind.Iommufd);
        if (file is null)
        {
            return Errno.EBADF;
        }

        if (file is not IommuFile iommufd)
        {
            return Errno.EBADFD;
        }

        var device = iommufd.Context.BindDevice(Core, Device);
        bind.OutDevid = device.Id.Value;
        var rc = ExtensibleStruct.WriteFixed(arg, bind);
        if (rc != Errno.None)
        {
            device.Unbind();
            return rc;
        }

        Bound = device;
        return Errno.None;
    }

    private Errno Attach(Span<byte> arg)
    {
        if (arg.Length < AttachMinSize)
        {
            return Errno.EFAULT;
        }

        var attach = ExtensibleStruct.FromBytes<VfioDeviceAttachIommufdPt>(arg[..AttachMinSize]);
        if (attach.Argsz < AttachMinSize || (attach.Flags & ~UapiConstants.VfioDevicePasid) != 0)
        {
            return Errno.EINVAL;
        }

        var withPasid = (attach.Flags & UapiConstants.VfioDevicePasid) != 0;
        if (withPasid)
        {
            if (attach.Argsz < AttachPasidSize)
            {
                return Errno.EINVAL;
            }

            if (arg.Length < AttachPasidSize)
            {
                return Errno.EFAULT;
            }

            attach = ExtensibleStruct.FromBytes<VfioDeviceAttachIommufdPt>(arg[..AttachPasidSize]);
        }

        var device = Bound!;
        if (!IoasidId.IsValid(attach.PtId))
        {
            return Errno.ENOENT;
        }

        var ptId = new IoasidId(attach.PtId);
        Hwpt hwpt;
        if (withPasid)
        {
            var pasid = ToPasid(attach.Pasid);
            hwpt = _pasids.Contains(attach.Pasid) ? device.Replace(ptId, pasid) : device.Attach(ptId, pasid);
            _pasids.Add(attach.Pasid);
        }
        else
        {
            hwpt = _ridAttached ? device.Replace(ptId) : device.Attach(ptId);
            _ridAttached = true;
        }

        attach.PtId = hwpt.Id.Value;
        return ExtensibleStruct.WriteFixed(arg, attach, AttachMinSize);
    }

    private Errno Detach(Span<byte> arg)
    {
        if (arg.Length < DetachMinSize)
        {
            return Errno.EFAULT;
        }

        var detach = ExtensibleStruct.FromBytes<VfioDeviceDetachIommufdPt>(arg[..DetachMinSize]);
        if (detach.Argsz < DetachMinSize || (detach.Flags & ~UapiConstants.VfioDevicePasid) != 0)
        {
            return Errno.EINVAL;
        }

        var device = Bound!;
        if ((detach.Flags & UapiConstants.VfioDevicePasid) != 0)
        {
            if (detach.Argsz < DetachPasidSize)
            {
                return Errno.EINVAL;
            }

            if (arg.Length < DetachPasidSize)
            {
                return Errno.EFAULT;
            }

            detach = ExtensibleStruct.FromBytes<VfioDeviceDetachIommufdPt>(arg[..DetachPasidSize]);
            if (_pasids.Remove(detach.Pasid))
            {
                device.Detach(ToPasid(detach.Pasid));
            }

            return Errno.None;
        }

        if (_ridAttached)
        {
            device.Detach();
            _ridAttached = false;
        }

        return Errno.None;
    }

    // PASID 0 is the RID itself and values past 20 bits do not exist: the IOMMU layer refuses both.
    private static Pasid ToPasid(uint value) =>
        value != 0 && Pasid.TryFrom(value, out var pasid)
            ? pasid
            : throw new IoasidException(Errno.EINVAL, $"PASID {value} is not a valid PASID");
}
