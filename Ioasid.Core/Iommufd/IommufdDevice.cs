using System;
using System.Collections.Generic;
using System.Linq;
using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A device bound to an iommufd context (the kernel's <c>iommufd_device</c>, made by VFIO_DEVICE_BIND_IOMMUFD). The
/// device — never its group — is what attach, replace and detach name; the group only constrains (all its devices
/// share one HWPT per PASID). The binding driver holds a reference, so IOMMU_DESTROY of a bound device is EBUSY;
/// <see cref="Unbind"/> ends it.
/// </summary>
public sealed class IommufdDevice : IommufdObject
{
    internal IommufdDevice(IommufdContext context, IoasidId id, IommuCore core, IommuDevice device, IommufdGroup group)
        : base(context, id)
    {
        Core = core;
        Device = device;
        IGroup = group;
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.Device;

    /// <summary>The IOMMU layer's device.</summary>
    public IommuDevice Device { get; }

    /// <summary>The IOMMU layer the device belongs to.</summary>
    public IommuCore Core { get; }

    internal IommufdGroup IGroup { get; }

    /// <summary>The HWPT the device's RID is attached to, or null (the device is blocked).</summary>
    public Hwpt? Hwpt => GetHwpt(Pasid.NoPasid);

    /// <summary>The HWPT attached to <paramref name="pasid"/> of this device, or null.</summary>
    public Hwpt? GetHwpt(Pasid pasid)
    {
        lock (Context.Sync)
        {
            return IGroup.Attachments.TryGetValue(pasid, out var attach) && attach.Devices.Contains(this) ? attach.Hwpt : null;
        }
    }

    /// <summary>
    /// <c>iommufd_device_attach</c>: attaches the RID (or <paramref name="pasid"/>) to <paramref name="ptId"/>, a HWPT
    /// (paging or nested) or, for the RID only, an IOAS (then a compatible automatic HWPT of that IOAS is reused, or
    /// one is created). Returns the HWPT. ENOENT for a missing id; EINVAL for an id of another kind, a HWPT other than
    /// the one the group uses, an incompatible domain, and the PASID rules (an IOAS or a HWPT not allocated with
    /// <see cref="HwptAllocFlags.Pasid"/> on a PASID; a PASID while the RID's HWPT is not PASID-compatible; a
    /// non-compatible RID HWPT while PASIDs are attached; a device without PASID support); EBUSY when already attached
    /// (use <see cref="Replace"/>); EADDRINUSE when the device's reserved regions hit existing mappings.
    /// </summary>
    public Hwpt Attach(IoasidId ptId, Pasid pasid = default)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var target = LookupTarget(ptId);
            CheckPasidCompat(target, pasid);
            IGroup.Attachments.TryGetValue(pasid, out var current);
            if (current.Devices?.Contains(this) == true)
            {
                throw new IoasidException(Errno.EBUSY, $"{Describe(pasid)} is already attached to HWPT {current.Hwpt.Id}; replace it instead");
            }

            var hwpt = current.Hwpt is { } groupHwpt
                ? JoinGroupHwpt(groupHwpt, target, pasid)
                : AttachFirst(target, pasid, replacing: null);
            if (current.Hwpt is null)
            {
                IGroup.Attachments[pasid] = (hwpt, new HashSet<IommufdDevice>());
            }

            IGroup.Attachments[pasid].Devices.Add(this);
            hwpt.AddUser();
            return hwpt;
        }
    }

    /// <summary>
    /// <c>iommufd_device_replace</c>: moves an attached RID (or PASID) — for the whole group — to another HWPT or IOAS
    /// in one step; on failure the old HWPT stays. EINVAL when not attached. Returns the new HWPT.
    /// </summary>
    public Hwpt Replace(IoasidId ptId, Pasid pasid = default)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var target = LookupTarget(ptId);
            if (!IGroup.Attachments.TryGetValue(pasid, out var current) || !current.Devices.Contains(this))
            {
                throw new IoasidException(Errno.EINVAL, $"{Describe(pasid)} is not attached");
            }

            CheckPasidCompat(target, pasid);
            if (ReferenceEquals(target, current.Hwpt))
            {
                return current.Hwpt;
            }

            var hwpt = AttachFirst(target, pasid, replacing: current);
            if (ReferenceEquals(hwpt, current.Hwpt))
            {
                return hwpt;
            }

            IGroup.Attachments[pasid] = (hwpt, current.Devices);
            foreach (var device in current.Devices)
            {
                hwpt.AddUser();
                if (pasid.IsNoPasid && !ReferenceEquals(hwpt.Ioas, current.Hwpt.Ioas))
                {
                    current.Hwpt.Ioas.Unreserve(device);
                }

                ReleaseHwpt(current.Hwpt);
            }

            return hwpt;
        }
    }

    /// <summary>
    /// <c>iommufd_device_detach</c>: the RID (or PASID) leaves its HWPT. The last device of the group to leave returns
    /// the group to the blocking domain (or the PASID to no domain). Detaching what is not attached does nothing.
    /// </summary>
    public void Detach(Pasid pasid = default)
    {
        lock (Context.Sync)
        {
            if (!IGroup.Attachments.TryGetValue(pasid, out var current) || !current.Devices.Remove(this))
            {
                return;
            }

            if (current.Devices.Count == 0)
            {
                IGroup.Attachments.Remove(pasid);
                if (pasid.IsNoPasid)
                {
                    Core.SetGroupDomain(Device.Group, Core.BlockingDomainFor(Device));
                }
                else
                {
                    Core.RemovePasid(Device, pasid);
                }
            }

            if (pasid.IsNoPasid)
            {
                current.Hwpt.Ioas.Unreserve(this);
            }

            ReleaseHwpt(current.Hwpt);
        }
    }

    /// <summary>
    /// IOMMU_GET_HW_INFO: the driver's <c>hw_info</c> blob of <paramref name="requestedType"/> (0: the driver's default
    /// type), the dirty-tracking capability and the PASID width. A driver without <c>hw_info</c> reports type NONE and
    /// no data; asking such a driver for a specific type is EOPNOTSUPP, as is a type the driver does not know.
    /// </summary>
    public HwInfo GetHwInfo(uint requestedType = 0)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var type = requestedType;
            byte[] data;
            if (Device.Ops.HwInfo is { } hwInfo)
            {
                data = hwInfo(Device, ref type);
            }
            else if (requestedType != 0)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"{Device.Ops.Name} reports no hardware information of type {requestedType}");
            }
            else
            {
                data = [];
            }

            var capabilities = Device.Ops.Capable?.Invoke(Device, IommuCapability.DirtyTracking) == true
                ? HwInfoCapabilities.DirtyTracking
                : HwInfoCapabilities.None;
            var pasids = Device.MaxPasids;
            var log2 = pasids == 0 ? (byte)0 : (byte)System.Numerics.BitOperations.Log2(pasids);
            return new HwInfo(type, data, capabilities, log2);
        }
    }

    /// <summary>The PASIDs of this device that are attached, in order.</summary>
    public IReadOnlyList<Pasid> AttachedPasids
    {
        get
        {
            lock (Context.Sync)
            {
                var list = new List<Pasid>();
                foreach (var (pasid, attach) in IGroup.Attachments)
                {
                    if (!pasid.IsNoPasid && attach.Devices.Contains(this))
                    {
                        list.Add(pasid);
                    }
                }

                list.Sort();
                return list;
            }
        }
    }

    /// <summary>
    /// <c>iommufd_device_unbind</c>: the binding driver lets go. Every attachment is detached first (the kernel
    /// expects VFIO to have done so), DMA ownership of the group is released, and the device object is removed.
    /// </summary>
    public void Unbind()
    {
        lock (Context.Sync)
        {
            if (IsDestroyed)
            {
                return;
            }

            foreach (var pasid in new List<Pasid>(IGroup.Attachments.Keys))
            {
                Detach(pasid);
            }

            RemoveUser(); // the driver's reference
            Context.RemoveDriverOwned(this);
        }
    }

    private protected override void Release()
    {
        Core.ReleaseDmaOwner(Device, Context);
        Context.ForgetDevice(this);
    }

    private IommufdObject LookupTarget(IoasidId ptId)
    {
        var target = Context.Lookup(ptId.Value);
        return target is Ioas or Iommufd.Hwpt
            ? target
            : throw new IoasidException(Errno.EINVAL, $"object {ptId} is a {target.Kind}; attach needs an IOAS or a HWPT");
    }

    // iommufd_hwpt_pasid_compat: which HWPTs may sit on a PASID, and which on the RID while PASIDs are attached.
    private void CheckPasidCompat(IommufdObject target, Pasid pasid)
    {
        var compatible = target is Iommufd.Hwpt { IsPasidCompatible: true };
        if (pasid.IsNoPasid)
        {
            if (!compatible && IGroup.Attachments.Keys.Any(p => !p.IsNoPasid))
            {
                throw new IoasidException(Errno.EINVAL, $"PASIDs of {Device.Group} are attached: the RID needs a PASID-compatible HWPT");
            }

            return;
        }

        if (Device.MaxPasids == 0 || pasid.Value >= Device.MaxPasids)
        {
            throw new IoasidException(Errno.EINVAL, $"{Device} has no PASID {pasid}");
        }

        if (!compatible)
        {
            throw new IoasidException(Errno.EINVAL, target is Ioas
                ? "a PASID cannot attach to an IOAS: allocate a HWPT with the PASID flag"
                : $"HWPT {target.Id} was not allocated with the PASID flag");
        }

        if (IGroup.Attachments.TryGetValue(Pasid.NoPasid, out var rid) && !rid.Hwpt.IsPasidCompatible)
        {
            throw new IoasidException(Errno.EINVAL, $"the RID of {Device} is on HWPT {rid.Hwpt.Id}, which is not PASID-compatible");
        }
    }

    // A later device of a group joins the group's HWPT: only the reserved regions are new.
    private Hwpt JoinGroupHwpt(Hwpt groupHwpt, IommufdObject target, Pasid pasid)
    {
        if (!ReferenceEquals(target, groupHwpt) && !ReferenceEquals(target, groupHwpt.Ioas))
        {
            throw new IoasidException(Errno.EINVAL, $"the devices of {Device.Group} must share HWPT {groupHwpt.Id}");
        }

        if (pasid.IsNoPasid)
        {
            AddReservedRegions(groupHwpt.Ioas);
        }

        return groupHwpt;
    }

    // The hardware attach (or group-wide replace) to a HWPT, or to an automatic HWPT of an IOAS (iommufd_device_auto_get_domain).
    private Hwpt AttachFirst(IommufdObject target, Pasid pasid, (Hwpt Hwpt, HashSet<IommufdDevice> Devices)? replacing)
    {
        if (target is Iommufd.Hwpt hwpt)
        {
            var errno = TryAttachHardware(hwpt, pasid, replacing);
            return errno == Errno.None ? hwpt : throw new IoasidException(errno, $"{Describe(pasid)} could not attach to HWPT {hwpt.Id}");
        }

        var ioas = (Ioas)target;
        if (replacing is { } old && ReferenceEquals(old.Hwpt.Ioas, ioas) && old.Hwpt.IsAuto)
        {
            return old.Hwpt;
        }

        foreach (var candidate in ioas.Hwpts.ToArray())
        {
            if (!candidate.IsAuto)
            {
                continue; // manually allocated HWPTs are never chosen automatically
            }

            var errno = TryAttachHardware(candidate, pasid, replacing);
            if (errno == Errno.None)
            {
                return candidate;
            }

            if (errno != Errno.EINVAL)
            {
                throw new IoasidException(errno, $"{Describe(pasid)} could not attach to HWPT {candidate.Id}");
            }
        }

        var domain = Core.AllocPagingDomain(Device, 0, ReadOnlySpan<byte>.Empty);
        HwptPaging created;
        try
        {
            created = Context.Create(id => new HwptPaging(Context, id, Core, domain, ioas, isAuto: true, HwptAllocFlags.None));
        }
        catch
        {
            Core.FreeDomain(domain);
            throw;
        }

        var attached = TryAttachHardware(created, pasid, replacing);
        if (attached != Errno.None)
        {
            Context.Destroy(created.Id);
            throw new IoasidException(attached, $"{Describe(pasid)} could not attach to a new domain of IOAS {ioas.Id}");
        }

        return created;
    }

    private Errno TryAttachHardware(Hwpt hwpt, Pasid pasid, (Hwpt Hwpt, HashSet<IommufdDevice> Devices)? replacing)
    {
        if (!IommuCore.IsCompatible(hwpt.Domain, Device))
        {
            return Errno.EINVAL;
        }

        var sameIoas = replacing is { } old && ReferenceEquals(old.Hwpt.Ioas, hwpt.Ioas);
        var moveReservations = pasid.IsNoPasid && !sameIoas;
        var devices = moveReservations ? replacing?.Devices ?? new HashSet<IommufdDevice> { this } : null;
        if (devices is not null)
        {
            try
            {
                foreach (var device in devices)
                {
                    device.AddReservedRegions(hwpt.Ioas);
                }
            }
            catch (IoasidException error)
            {
                foreach (var device in devices)
                {
                    hwpt.Ioas.Unreserve(device);
                }

                return error.Errno;
            }
        }

        var errno = pasid.IsNoPasid ? Core.SetGroupDomain(Device.Group, hwpt.Domain) : Core.SetPasid(Device, pasid, hwpt.Domain);
        if (errno != Errno.None && devices is not null)
        {
            foreach (var device in devices)
            {
                hwpt.Ioas.Unreserve(device);
            }
        }

        return errno;
    }

    /// <summary>The device's reserved regions become reserved IOVA of the IOAS (owner: this device).</summary>
    private void AddReservedRegions(Ioas ioas)
    {
        var regions = new List<ReservedRegion>();
        Device.Ops.GetResvRegions?.Invoke(Device, regions);
        try
        {
            foreach (var region in regions)
            {
                if (region.Type != ReservedRegionType.DirectRelaxable)
                {
                    ioas.Reserve(region.Start.Value, region.Last.Value, this);
                }
            }
        }
        catch
        {
            ioas.Unreserve(this);
            throw;
        }
    }

    private void ReleaseHwpt(Hwpt hwpt)
    {
        hwpt.RemoveUser();
        if (hwpt.IsAuto && hwpt.IsOnlyHeldByTable)
        {
            Context.Destroy(hwpt.Id);
        }
    }

    private string Describe(Pasid pasid) => pasid.IsNoPasid ? $"device {Id}" : $"PASID {pasid} of device {Id}";

    private void ThrowIfDestroyed()
    {
        if (IsDestroyed)
        {
            throw new IoasidException(Errno.ENOENT, $"device {Id} is no longer bound");
        }
    }
}
