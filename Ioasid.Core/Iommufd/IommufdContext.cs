using System;
using System.Collections.Generic;
using System.Threading;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// One open of <c>/dev/iommu</c>: an object table with a single id space shared by every object kind, the
/// memlock accounting mode, and the process that opened it. Disposing it is closing the file: every object is
/// destroyed, leaves first, and every pin is returned.
/// </summary>
public sealed class IommufdContext : IDisposable
{
    private readonly ObjectTable _table = new();
    private readonly Dictionary<Iommu.IommuGroup, IommufdGroup> _groups = new();

    /// <summary>Opens a context for <paramref name="process"/>, as <c>open("/dev/iommu")</c> by that process.</summary>
    /// <param name="process">The process whose memory IOAS_MAP takes <c>user_va</c> from and whose limits are charged.</param>
    /// <param name="openedAsVfioContainer">True when opened as <c>/dev/vfio/vfio</c>: the accounting mode starts as MM, like VFIO type1.</param>
    public IommufdContext(UserProcess process, bool openedAsVfioContainer = false)
    {
        ArgumentNullException.ThrowIfNull(process);
        Process = process;
        AccountMode = openedAsVfioContainer ? AccountMode.Mm : AccountMode.User;
    }

    /// <summary>The process that opened the context.</summary>
    public UserProcess Process { get; }

    /// <summary>The RLIMIT accounting mode of the context (IOMMU_OPTION_RLIMIT_MODE): USER by default, MM for a VFIO open.</summary>
    public AccountMode AccountMode { get; private set; }

    /// <summary>Whether the context has been closed.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>The number of live objects.</summary>
    public int ObjectCount
    {
        get
        {
            lock (Sync)
            {
                return _table.Count;
            }
        }
    }

    /// <summary>The context lock: the object table and every IOAS of the context change under it.</summary>
    internal Lock Sync { get; } = new();

    /// <summary>The live objects, in id order.</summary>
    public IReadOnlyList<IommufdObject> Objects
    {
        get
        {
            lock (Sync)
            {
                return _table.Snapshot();
            }
        }
    }

    /// <summary>IOMMU_IOAS_ALLOC: creates an empty I/O address space.</summary>
    [MustUseResult]
    public Ioas AllocIoas() => Create(id => new Ioas(this, id));

    /// <summary>
    /// <c>iommufd_access_create</c>: a software access for a driver (a mediated device's parent). The driver holds a
    /// reference until it calls <see cref="IommufdAccess.Destroy"/>, so IOMMU_DESTROY of the access is EBUSY.
    /// </summary>
    [MustUseResult]
    public IommufdAccess CreateAccess(IAccessOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var access = Create(id => new IommufdAccess(this, id, ops));
        access.AddUser(); // the driver's reference
        return access;
    }

    /// <summary>
    /// <c>iommufd_device_bind</c> (VFIO_DEVICE_BIND_IOMMUFD): binds a device of <paramref name="core"/> to this
    /// context. The device must report cache-coherent DMA (EINVAL otherwise); DMA ownership of its group is claimed
    /// (EBUSY when another context or driver owns it). The device sits in the blocking domain until attached.
    /// </summary>
    [MustUseResult]
    public IommufdDevice BindDevice(Iommu.IommuCore core, Iommu.IommuDevice device)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(device);
        lock (Sync)
        {
            ThrowIfClosed();
            if (device.Ops.Capable?.Invoke(device, Iommu.IommuCapability.CacheCoherency) != true)
            {
                throw new IoasidException(Errno.EINVAL, $"{device} does not support cache-coherent DMA");
            }

            foreach (var obj in _table.Snapshot())
            {
                if (obj is IommufdDevice bound && bound.Device == device)
                {
                    throw new IoasidException(Errno.EBUSY, $"{device} is already bound as device {bound.Id}");
                }
            }

            core.ClaimDmaOwner(device, this);
            if (!_groups.TryGetValue(device.Group, out var igroup))
            {
                igroup = new IommufdGroup(device.Group);
                _groups.Add(device.Group, igroup);
            }

            IommufdDevice idev;
            try
            {
                idev = Create(id => new IommufdDevice(this, id, core, device, igroup));
            }
            catch
            {
                core.ReleaseDmaOwner(device, this);
                throw;
            }

            idev.AddUser(); // the binding driver's reference
            return idev;
        }
    }

    /// <summary>
    /// Binds a mediated device. An mdev with a PASID needs its parent's bound device (<paramref name="parent"/>, which
    /// must be bound in this context: EINVAL otherwise) and is attached through it on that PASID; an mdev without one
    /// needs <paramref name="accessOps"/>, the parent driver's callbacks for a software access (EINVAL when missing).
    /// The mdev itself never reaches the IOMMU layer.
    /// </summary>
    [MustUseResult]
    public MdevBinding BindMediatedDevice(Platform.MediatedDevice mdev, IommufdDevice? parent, IAccessOps? accessOps = null)
    {
        ArgumentNullException.ThrowIfNull(mdev);
        if (mdev.Pasid is not null)
        {
            if (parent is null || parent.Context != this || parent.IsDestroyed || parent.Device.Pci != mdev.Parent)
            {
                throw new IoasidException(Errno.EINVAL, $"{mdev} needs its parent {mdev.Parent} bound to this context");
            }

            return new MdevBinding(mdev, parent, access: null);
        }

        if (accessOps is null)
        {
            throw new IoasidException(Errno.EINVAL, $"{mdev} has no PASID: its parent driver must supply access callbacks");
        }

        return new MdevBinding(mdev, parent: null, CreateAccess(accessOps));
    }

    /// <summary>
    /// IOMMU_HWPT_ALLOC of a paging HWPT: a domain for <paramref name="device"/> that mirrors the IOAS
    /// <paramref name="ioasId"/>. It is never chosen automatically and lives until IOMMU_DESTROY. Checks in the
    /// kernel's order: EINVAL when the id is not a live IOAS or the data type and data disagree; EOPNOTSUPP for an
    /// unknown flag, DIRTY_TRACKING on a device without the dirty capability, FAULT_ID_VALID with NEST_PARENT, flags
    /// or data the driver cannot take, or PASID on a domain that cannot attach to PASIDs; ENOENT for FAULT_ID_VALID
    /// (this model has no fault queues); then the driver's and the IOAS's errors (EINVAL, EADDRINUSE, ENOMEM …).
    /// </summary>
    [MustUseResult]
    public HwptPaging AllocHwptPaging(IommufdDevice device, IoasidId ioasId, HwptAllocFlags flags = HwptAllocFlags.None, uint dataType = 0, ReadOnlySpan<byte> data = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        lock (Sync)
        {
            ThrowIfClosed();
            CheckUserData(dataType, data);
            var ioas = _table.TryGet(ioasId.Value, out var obj) && obj is Ioas found
                ? found
                : throw new IoasidException(Errno.EINVAL, $"object {ioasId} is not an IOAS");
            const HwptAllocFlags known = HwptAllocFlags.NestParent | HwptAllocFlags.DirtyTracking | HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid;
            if ((flags & ~known) != 0)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"unknown HWPT_ALLOC flags 0x{(uint)(flags & ~known):x}");
            }

            if ((flags & HwptAllocFlags.DirtyTracking) != 0
                && device.Device.Ops.Capable?.Invoke(device.Device, Iommu.IommuCapability.DirtyTracking) != true)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"{device.Device} cannot track dirty pages");
            }

            if ((flags & HwptAllocFlags.FaultIdValid) != 0)
            {
                throw (flags & HwptAllocFlags.NestParent) != 0
                    ? new IoasidException(Errno.EOPNOTSUPP, "FAULT_ID_VALID cannot be combined with NEST_PARENT")
                    : new IoasidException(Errno.ENOENT, "no fault queue object exists (IOMMU_FAULT_QUEUE_ALLOC is not modelled)");
            }

            var domain = device.Core.AllocPagingDomain(device.Device, (uint)flags, data);
            try
            {
                if ((flags & HwptAllocFlags.Pasid) != 0 && domain.Ops.SetDevPasid is null)
                {
                    throw new IoasidException(Errno.EOPNOTSUPP, $"{domain} cannot be attached to PASIDs");
                }

                return Create(id => new HwptPaging(this, id, device.Core, domain, ioas, isAuto: false, flags));
            }
            catch
            {
                device.Core.FreeDomain(domain);
                throw;
            }
        }
    }

    /// <summary>
    /// IOMMU_HWPT_ALLOC of a nested HWPT: the driver's <c>domain_alloc_nested</c> builds a stage-1 domain for
    /// <paramref name="device"/> from the user's <paramref name="data"/> of type <paramref name="dataType"/>, nested on
    /// the paging HWPT <paramref name="parentId"/>. EINVAL when the parent is missing or not a paging HWPT, is automatic,
    /// is not a NEST_PARENT or belongs to another driver, or the data type and data disagree; EOPNOTSUPP for flags other
    /// than FAULT_ID_VALID and PASID, no data, or a driver without nesting; then the driver's errors (EOPNOTSUPP for an
    /// unknown data type, EINVAL for short or bad data, EIO for an illegal SMMUv3 STE).
    /// </summary>
    [MustUseResult]
    public HwptNested AllocHwptNested(IommufdDevice device, IoasidId parentId, HwptAllocFlags flags, uint dataType, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(device);
        lock (Sync)
        {
            ThrowIfClosed();
            CheckUserData(dataType, data);
            var parent = _table.TryGet(parentId.Value, out var obj) && obj is HwptPaging found
                ? found
                : throw new IoasidException(Errno.EINVAL, $"object {parentId} is not a paging HWPT");
            if ((flags & ~(HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid)) != 0)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"a nested HWPT takes only FAULT_ID_VALID and PASID, not 0x{(uint)flags:x}");
            }

            if (data.IsEmpty)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, "a nested HWPT needs the driver's stage-1 data");
            }

            if ((flags & HwptAllocFlags.FaultIdValid) != 0)
            {
                throw new IoasidException(Errno.ENOENT, "no fault queue object exists (IOMMU_FAULT_QUEUE_ALLOC is not modelled)");
            }

            var domain = device.Core.AllocNestedDomain(device.Device, parent.Domain, parent.IsAuto, parent.IsNestParent, (uint)flags, dataType, data);
            try
            {
                return Create(id => new HwptNested(this, id, device.Core, domain, parent, flags, dataType));
            }
            catch
            {
                device.Core.FreeDomain(domain);
                throw;
            }
        }
    }

    // The common user-data check of IOMMU_HWPT_ALLOC: a type needs data and data needs a type.
    private static void CheckUserData(uint dataType, ReadOnlySpan<byte> data)
    {
        if ((dataType == 0) != data.IsEmpty)
        {
            throw new IoasidException(Errno.EINVAL, dataType == 0 ? "driver data without a data type" : $"data type {dataType} without data");
        }
    }

    internal void ForgetDevice(IommufdDevice device)
    {
        foreach (var obj in _table.Snapshot())
        {
            if (obj is IommufdDevice other && other != device && other.IGroup == device.IGroup)
            {
                return;
            }
        }

        _groups.Remove(device.IGroup.Group);
    }

    /// <summary>Finds a live object by id; a missing, half-created or destroyed id → ENOENT.</summary>
    public IommufdObject GetObject(IoasidId id)
    {
        lock (Sync)
        {
            return Lookup(id.Value);
        }
    }

    /// <summary>Finds a live object of kind <typeparamref name="T"/>; a missing id or an object of another kind → ENOENT.</summary>
    public T Get<T>(IoasidId id)
        where T : IommufdObject
    {
        lock (Sync)
        {
            return Lookup<T>(id.Value);
        }
    }

    /// <summary>
    /// IOMMU_DESTROY: destroys any kind of object. ENOENT when the id names no live object; EBUSY while anything
    /// besides the object table still holds it (a HWPT on an IOAS, an attached device on a HWPT, …).
    /// </summary>
    public void Destroy(IoasidId id)
    {
        lock (Sync)
        {
            ThrowIfClosed();
            var obj = Lookup(id.Value);
            if (!obj.IsOnlyHeldByTable)
            {
                throw new IoasidException(Errno.EBUSY, $"{Describe(obj)} is still in use ({obj.Users - 1} other user(s))");
            }

            _table.Release(obj.Id);
            obj.DestroyObject();
        }
    }

    /// <summary>
    /// IOMMU_OPTION RLIMIT_MODE SET: chooses USER or MM accounting for pages pinned from now on. Needs
    /// CAP_SYS_RESOURCE (EPERM) and a context without objects (EBUSY); NONE cannot be chosen (EINVAL).
    /// </summary>
    public void SetAccountMode(AccountMode mode)
    {
        lock (Sync)
        {
            ThrowIfClosed();
            if (!Process.CapSysResource)
            {
                throw new IoasidException(Errno.EPERM, "changing the RLIMIT mode needs CAP_SYS_RESOURCE");
            }

            if (_table.Count > 0)
            {
                throw new IoasidException(Errno.EBUSY, "the RLIMIT mode can only change while the context holds no object");
            }

            if (mode is not (AccountMode.User or AccountMode.Mm))
            {
                throw new IoasidException(Errno.EINVAL, "the RLIMIT mode is USER (0) or MM (1)");
            }

            AccountMode = mode;
        }
    }

    /// <summary>
    /// Closes the context: destroys every object whose only user is the table, round after round, so leaves go
    /// before what they depend on; every pin and charge is returned.
    /// </summary>
    public void Dispose()
    {
        lock (Sync)
        {
            if (IsClosed)
            {
                return;
            }

            while (_table.Count > 0)
            {
                var destroyed = 0;
                foreach (var obj in _table.Snapshot())
                {
                    if (obj.IsOnlyHeldByTable)
                    {
                        _table.Release(obj.Id);
                        obj.DestroyObject();
                        destroyed++;
                    }
                }

                if (destroyed == 0 && !RevokeDriverHeldAccesses())
                {
                    throw new InvalidOperationException("iommufd close: a round destroyed nothing; an object holds a reference it never drops.");
                }
            }

            IsClosed = true;
        }
    }

    /// <summary>Removes an object whose driver ended it (e.g. <see cref="IommufdAccess.Destroy"/>).</summary>
    internal void RemoveDriverOwned(IommufdObject obj)
    {
        if (!obj.IsOnlyHeldByTable)
        {
            throw new IoasidException(Errno.EBUSY, $"{Describe(obj)} is still in use");
        }

        _table.Release(obj.Id);
        obj.DestroyObject();
    }

    // Closing the file while a driver still holds an access: in the kernel the access keeps the context alive
    // until the driver lets go; a simulation has no driver to wait for, so the access is ended on its behalf
    // (its unmap callback still runs, so every pin is returned).
    private bool RevokeDriverHeldAccesses()
    {
        var revoked = false;
        foreach (var obj in _table.Snapshot())
        {
            if (obj is IommufdAccess access && access.Users == 2)
            {
                access.Revoke();
                revoked = true;
            }
            else if (obj is IommufdDevice device && device.Users == 2)
            {
                device.Unbind();
                revoked = true;
            }
        }

        return revoked;
    }

    /// <summary>Two-phase create: reserve the id (invisible to lookups), build the object, then publish it.</summary>
    internal T Create<T>(Func<IoasidId, T> build)
        where T : IommufdObject
    {
        lock (Sync)
        {
            ThrowIfClosed();
            var id = _table.Reserve();
            T obj;
            try
            {
                obj = build(id);
            }
            catch
            {
                _table.Release(id);
                throw;
            }

            _table.Publish(obj);
            return obj;
        }
    }

    /// <summary>Whether an id is reserved by a creation still in progress (tests of the two-phase rule use it).</summary>
    internal bool IsReserved(IoasidId id)
    {
        lock (Sync)
        {
            return _table.IsReserved(id.Value);
        }
    }

    internal IommufdObject Lookup(uint id)
    {
        ThrowIfClosed();
        return _table.TryGet(id, out var obj)
            ? obj
            : throw new IoasidException(Errno.ENOENT, $"no object with id {id}");
    }

    internal T Lookup<T>(uint id)
        where T : IommufdObject
    {
        ThrowIfClosed();
        return _table.TryGet(id, out var obj) && obj is T typed
            ? typed
            : throw new IoasidException(Errno.ENOENT, obj is null ? $"no object with id {id}" : $"object {id} is a {obj.Kind}, not a {KindName<T>()}");
    }

    private static string KindName<T>() => typeof(T).Name;

    private static string Describe(IommufdObject obj) => $"{obj.Kind} {obj.Id}";

    private void ThrowIfClosed()
    {
        if (IsClosed)
        {
            throw new IoasidException(Errno.EBADF, "the iommufd context is closed");
        }
    }
}
