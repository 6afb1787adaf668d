using System;
using System.Collections.Generic;
using System.Numerics;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

/// <summary>
/// The IOMMU layer of one machine (the kernel's <c>drivers/iommu/iommu.c</c>): registered drivers, the devices
/// they probed, their groups, and the domain of every device RID and PASID. It calls drivers only through their
/// ops tables and does what the kernel does when an op is absent. Group rule: every device of a group is always
/// in the same RID domain; attachment is still asked for per device.
/// </summary>
public sealed partial class IommuCore
{
    private readonly List<IommuOps> _drivers = new();
    private readonly Dictionary<Rid, IommuDevice> _devices = new();
    private readonly Dictionary<IommuDevice, IommuDomain> _ridDomains = new();
    private readonly Dictionary<(IommuDevice Device, Pasid Pasid), IommuDomain> _pasidDomains = new();
    private readonly Dictionary<IommuOps, IommuDomain> _emptyBlockingDomains = new();
    private readonly IotlbGather _gather = new();
    private readonly Dictionary<IommuGroup, (object Owner, int Claims)> _dmaOwners = new();

    /// <summary>The group library drivers' <c>device_group</c> ops use.</summary>
    public IommuGroups Groups { get; } = new();

    /// <summary>The registered drivers, in registration order.</summary>
    public IReadOnlyList<IommuOps> Drivers => _drivers;

    /// <summary>The probed devices.</summary>
    public IReadOnlyCollection<IommuDevice> Devices => _devices.Values;

    /// <summary>Registers a driver (<c>iommu_device_register</c>); later devices are offered to it.</summary>
    public void RegisterDriver(IommuOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        _drivers.Add(ops);
    }

    /// <summary>
    /// Adds a PCI function: each driver's <c>probe_device</c> is asked in turn until one claims it (one that throws
    /// ENODEV declines); its <c>device_group</c> then chooses the group. The device starts in the blocking
    /// domain — nothing may DMA until a domain is attached. ENODEV when no driver claims it; EEXIST for a RID
    /// already present.
    /// </summary>
    public IommuDevice AddDevice(PciDevice pci)
    {
        ArgumentNullException.ThrowIfNull(pci);
        if (_devices.ContainsKey(pci.Rid))
        {
            throw new IoasidException(Errno.EEXIST, $"a device with RID {pci.Rid} is already present");
        }

        foreach (var ops in _drivers)
        {
            var device = new IommuDevice(pci, ops);
            IommuUnit unit;
            try
            {
                unit = ops.ProbeDevice(device);
            }
            catch (IoasidException error) when (error.Errno == Errno.ENODEV)
            {
                continue;
            }

            device.Unit = unit;
            var group = ops.DeviceGroup(device)
                ?? throw new IoasidException(Errno.EINVAL, $"{ops.Name}: device_group returned no group for {pci}");
            device.Group = group;
            group.Add(device);
            _devices.Add(pci.Rid, device);
            var blocking = BlockingDomainFor(device);
            var errno = Attach(blocking, device, old: null);
            if (errno != Errno.None)
            {
                RemoveDevice(device);
                throw new IoasidException(errno, $"{ops.Name}: {pci} could not be put in the blocking domain");
            }

            _ridDomains[device] = blocking;
            return device;
        }

        throw new IoasidException(Errno.ENODEV, $"no IOMMU driver claims {pci}");
    }

    /// <summary>Removes a device: its PASIDs and RID are blocked, then the driver's <c>release_device</c> runs.</summary>
    public void RemoveDevice(IommuDevice device)
    {
        foreach (var key in new List<(IommuDevice, Pasid)>(_pasidDomains.Keys))
        {
            if (key.Item1 == device)
            {
                RemovePasid(device, key.Item2);
            }
        }

        device.Ops.ReleaseDevice?.Invoke(device);
        _ridDomains.Remove(device);
        device.Group?.Remove(device);
        _devices.Remove(device.Rid);
    }

    /// <summary>
    /// <c>iommu_device_claim_dma_owner</c>: a user (an iommufd context) takes DMA ownership of the device's group.
    /// Several devices of the group may be claimed by the same owner; another owner, or a group with PASID
    /// attachments, → EBUSY. The group is (and stays, until the owner attaches) in the blocking domain.
    /// </summary>
    public void ClaimDmaOwner(IommuDevice device, object owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (_dmaOwners.TryGetValue(device.Group, out var current))
        {
            if (!ReferenceEquals(current.Owner, owner))
            {
                throw new IoasidException(Errno.EBUSY, $"{device.Group} is owned by another user");
            }

            _dmaOwners[device.Group] = (owner, current.Claims + 1);
            return;
        }

        foreach (var member in device.Group.Devices)
        {
            if (GetAttachedPasids(member).Count > 0)
            {
                throw new IoasidException(Errno.EBUSY, $"{member} has PASID attachments");
            }
        }

        var errno = SetGroupDomain(device.Group, BlockingDomainFor(device));
        if (errno != Errno.None)
        {
            throw new IoasidException(errno, $"{device.Group} could not be blocked for its new owner");
        }

        _dmaOwners[device.Group] = (owner, 1);
    }

    /// <summary><c>iommu_device_release_dma_owner</c>: drops one claim; the last one puts the group back in the blocking domain.</summary>
    public void ReleaseDmaOwner(IommuDevice device, object owner)
    {
        if (!_dmaOwners.TryGetValue(device.Group, out var current) || !ReferenceEquals(current.Owner, owner))
        {
            throw new InvalidOperationException($"{device.Group} is not owned by this user");
        }

        if (current.Claims > 1)
        {
            _dmaOwners[device.Group] = (owner, current.Claims - 1);
            return;
        }

        _dmaOwners.Remove(device.Group);
        SetGroupDomain(device.Group, BlockingDomainFor(device));
    }

    /// <summary>The user that owns the group's DMA, or null.</summary>
    public object? DmaOwner(IommuGroup group) => _dmaOwners.TryGetValue(group, out var current) ? current.Owner : null;

    /// <summary>The device with <paramref name="rid"/>; ENODEV when absent.</summary>
    public IommuDevice GetDevice(Rid rid) =>
        _devices.TryGetValue(rid, out var device) ? device : throw new IoasidException(Errno.ENODEV, $"no device with RID {rid}");

    /// <summary>The domain that translates the device's RID (never null: a detached device is blocked).</summary>
    public IommuDomain GetDomain(IommuDevice device) => _ridDomains[device];

    /// <summary>The domain attached to one PASID of the device, or null.</summary>
    public IommuDomain? GetPasidDomain(IommuDevice device, Pasid pasid) =>
        _pasidDomains.TryGetValue((device, pasid), out var domain) ? domain : null;

    /// <summary>The PASIDs of the device that have a domain.</summary>
    public IReadOnlyList<Pasid> GetAttachedPasids(IommuDevice device)
    {
        var list = new List<Pasid>();
        foreach (var key in _pasidDomains.Keys)
        {
            if (key.Device == device)
            {
                list.Add(key.Pasid);
            }
        }

        list.Sort();
        return list;
    }

    /// <summary>The blocking domain of the device's driver: its static one, or (the kernel's fallback) an empty paging domain.</summary>
    public IommuDomain BlockingDomainFor(IommuDevice device)
    {
        if (device.Ops.BlockedDomain is { } blocked)
        {
            return blocked;
        }

        if (!_emptyBlockingDomains.TryGetValue(device.Ops, out var empty))
        {
            empty = AllocPagingDomain(device, 0, ReadOnlySpan<byte>.Empty);
            _emptyBlockingDomains.Add(device.Ops, empty);
        }

        return empty;
    }

    /// <summary>
    /// <c>iommu_paging_domain_alloc_flags</c>: <c>domain_alloc_paging_flags</c> if the driver has it, else
    /// <c>domain_alloc_paging</c> when there are no flags and no data, else EOPNOTSUPP. The domain must have a
    /// page-size bitmap.
    /// </summary>
    [MustUseResult]
    public IommuDomain AllocPagingDomain(IommuDevice device, uint flags, ReadOnlySpan<byte> userData)
    {
        var ops = device.Ops;
        IommuDomain domain;
        if (ops.DomainAllocPagingFlags is { } allocFlags)
        {
            domain = allocFlags(device, flags, userData);
        }
        else if (ops.DomainAllocPaging is { } alloc && flags == 0 && userData.IsEmpty)
        {
            domain = alloc(device);
        }
        else
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"{ops.Name} cannot allocate a paging domain with flags 0x{flags:x} or driver data");
        }

        if (!domain.IsPaging || domain.PageSizeBitmap == 0)
        {
            throw new InvalidOperationException($"{ops.Name}: a paging domain must be PAGING and set its page sizes");
        }

        domain.Owner = ops;
        return domain;
    }

    /// <summary>
    /// <c>domain_alloc_nested</c> on behalf of IOMMU_HWPT_ALLOC: EOPNOTSUPP when the driver has no such op; EINVAL when
    /// the parent is an automatic domain, was not allocated as a nest parent, or belongs to another driver; otherwise
    /// the driver's own checks of the data. The result must be a NESTED domain.
    /// </summary>
    public IommuDomain AllocNestedDomain(IommuDevice device, IommuDomain parent, bool parentIsAuto, bool parentIsNestParent, uint flags, uint dataType, ReadOnlySpan<byte> userData)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(parent);
        var ops = device.Ops;
        if (ops.DomainAllocNested is not { } alloc)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"{ops.Name} cannot nest");
        }

        if (parentIsAuto || !parentIsNestParent || parent.Owner != ops)
        {
            throw new IoasidException(Errno.EINVAL, $"{parent} is not a nest parent of {ops.Name}");
        }

        var domain = alloc(device, parent, flags, dataType, userData);
        if (domain.Type != IommuDomainType.Nested)
        {
            throw new InvalidOperationException($"{ops.Name}: domain_alloc_nested must return a NESTED domain");
        }

        domain.Owner = ops;
        return domain;
    }

    /// <summary>The identity domain of the device's driver: its static one, or <c>domain_alloc_identity</c>; EOPNOTSUPP without either.</summary>
    public IommuDomain IdentityDomainFor(IommuDevice device)
    {
        if (device.Ops.IdentityDomain is { } identity)
        {
            return identity;
        }

        if (device.Ops.DomainAllocIdentity is { } alloc)
        {
            var domain = alloc(device);
            domain.Owner = device.Ops;
            return domain;
        }

        throw new IoasidException(Errno.EOPNOTSUPP, $"{device.Ops.Name} has no identity domain");
    }

    /// <summary>Frees an allocated domain through its <c>free</c> op; static domains are never freed.</summary>
    public void FreeDomain(IommuDomain domain)
    {
        if (domain.Owner is not null)
        {
            domain.Ops.Free?.Invoke(domain);
        }
    }

    /// <summary>
    /// Whether <paramref name="domain"/> may translate <paramref name="device"/> (<c>domain_iommu_ops_compatible</c>):
    /// allocated by the same driver, or one of that driver's static domains.
    /// </summary>
    public static bool IsCompatible(IommuDomain domain, IommuDevice device) =>
        domain.Owner == device.Ops
        || (domain.Owner is null && (ReferenceEquals(domain, device.Ops.BlockedDomain) || ReferenceEquals(domain, device.Ops.IdentityDomain)));

    /// <summary>
    /// Sets the RID domain of every device of <paramref name="group"/> (<c>__iommu_group_set_domain</c>): each
    /// device's <c>attach_dev</c> runs; if one fails, the devices already switched go back to their old domain,
    /// so the group ends where it started. Returns the failing driver's errno.
    /// </summary>
    public Errno SetGroupDomain(IommuGroup group, IommuDomain domain)
    {
        var switched = new List<(IommuDevice Device, IommuDomain Old)>();
        foreach (var device in group.Devices)
        {
            var old = _ridDomains.TryGetValue(device, out var current) ? current : null;
            if (ReferenceEquals(old, domain))
            {
                continue;
            }

            if (!IsCompatible(domain, device))
            {
                Rollback(switched);
                return Errno.EINVAL;
            }

            var errno = Attach(domain, device, old);
            if (errno != Errno.None)
            {
                Rollback(switched);
                return errno;
            }

            _ridDomains[device] = domain;
            switched.Add((device, old!));
        }

        return Errno.None;
    }

    /// <summary>
    /// <c>iommu_attach_device_pasid</c> / <c>iommu_replace_device_pasid</c>: sets the domain of one PASID of a device.
    /// EOPNOTSUPP when the domain has no <c>set_dev_pasid</c> or the driver no blocking domain that has one; EINVAL
    /// for IOMMU_NO_PASID, a PASID beyond the device's width, a device in a group of several, or an incompatible
    /// domain; EBUSY when an SVA bond (<see cref="BindSva"/>) holds the PASID. On failure the PASID keeps its old domain.
    /// </summary>
    public Errno SetPasid(IommuDevice device, Pasid pasid, IommuDomain domain)
    {
        var blocked = device.Ops.BlockedDomain;
        if (domain.Ops.SetDevPasid is null || blocked?.Ops.SetDevPasid is null)
        {
            return Errno.EOPNOTSUPP;
        }

        if (pasid.IsNoPasid || pasid.Value >= device.MaxPasids || device.Group.Devices.Count != 1 || !IsCompatible(domain, device))
        {
            return Errno.EINVAL;
        }

        var old = GetPasidDomain(device, pasid);
        if (ReferenceEquals(old, domain))
        {
            return Errno.None;
        }

        if (_svaBonds.ContainsKey((device, pasid)))
        {
            return Errno.EBUSY; // an SVA bond holds the PASID until it is unbound (iommu_attach_device_pasid)
        }

        var errno = domain.Ops.SetDevPasid(domain, device, pasid, old ?? blocked);
        if (errno == Errno.None)
        {
            _pasidDomains[(device, pasid)] = domain;
        }

        return errno;
    }

    /// <summary><c>iommu_detach_device_pasid</c>: the driver's blocking domain takes the PASID (<c>blocked-&gt;set_dev_pasid</c>).</summary>
    public void RemovePasid(IommuDevice device, Pasid pasid)
    {
        if (!_pasidDomains.Remove((device, pasid), out var old))
        {
            return;
        }

        var blocked = device.Ops.BlockedDomain!;
        var errno = blocked.Ops.SetDevPasid!(blocked, device, pasid, old);
        if (errno != Errno.None)
        {
            throw new InvalidOperationException($"{device.Ops.Name}: blocking PASID {pasid} of {device} failed with {errno}");
        }
    }

    /// <summary>
    /// <c>iommu_map</c>: maps <c>[iova, iova + size)</c> to <paramref name="physical"/> with the largest page sizes the
    /// domain supports and the addresses' alignment allows, through <c>map_pages</c>, then <c>iotlb_sync_map</c>.
    /// EINVAL when iova, physical address or size is not a multiple of the domain's smallest page; on any error
    /// what was mapped is unmapped again.
    /// </summary>
    public Errno Map(IommuDomain domain, Iova iova, PhysAddr physical, ulong size, IommuProt prot) =>
        Map(domain, iova, physical, size, prot, ulong.MaxValue);

    /// <summary>
    /// <see cref="Map(IommuDomain, Iova, PhysAddr, ulong, IommuProt)"/> limited to the page sizes in
    /// <paramref name="pageSizeMask"/> (iommufd maps in base pages when large pages are disabled, so areas can
    /// later be split).
    /// </summary>
    public Errno Map(IommuDomain domain, Iova iova, PhysAddr physical, ulong size, IommuProt prot, ulong pageSizeMask)
    {
        var mapPages = domain.Ops.MapPages;
        if (!domain.IsPaging || domain.PageSizeBitmap == 0 || mapPages is null)
        {
            return domain.IsPaging ? Errno.ENODEV : Errno.EINVAL;
        }

        var min = domain.MinPageSize;
        if (((iova.Value | physical.Value | size) & (min - 1)) != 0 || size == 0)
        {
            return Errno.EINVAL;
        }

        ulong done = 0;
        while (done < size)
        {
            var pageSize = PickPageSize(domain.PageSizeBitmap & (pageSizeMask | domain.MinPageSize), iova.Value + done, physical.Value + done, size - done, out var count);
            var errno = mapPages(domain, new Iova(iova.Value + done), new PhysAddr(physical.Value + done), pageSize, count, prot, out var mapped);
            done += mapped;
            if (errno != Errno.None)
            {
                if (done > 0)
                {
                    Unmap(domain, iova, done);
                }

                return errno;
            }
        }

        if (domain.Ops.IotlbSyncMap is { } syncMap)
        {
            var errno = syncMap(domain, iova, size);
            if (errno != Errno.None)
            {
                Unmap(domain, iova, size);
                return errno;
            }
        }

        return Errno.None;
    }

    /// <summary>
    /// <c>iommu_unmap</c>: unmaps with <c>unmap_pages</c> page size by page size, stopping at a hole or a refusal, then
    /// <c>iotlb_sync</c>. Returns the bytes unmapped (possibly more than asked, for drivers that remove whole
    /// superpages, or less).
    /// </summary>
    public ulong Unmap(IommuDomain domain, Iova iova, ulong size)
    {
        var unmapPages = domain.Ops.UnmapPages;
        var min = domain.MinPageSize;
        if (unmapPages is null || min == 0 || ((iova.Value | size) & (min - 1)) != 0)
        {
            return 0;
        }

        ulong done = 0;
        while (done < size)
        {
            var pageSize = PickPageSize(domain.PageSizeBitmap, iova.Value + done, iova.Value + done, size - done, out var count);
            var unmapped = unmapPages(domain, new Iova(iova.Value + done), pageSize, count, _gather);
            if (unmapped == 0)
            {
                break;
            }

            done += unmapped;
        }

        _gather.Sync(domain);
        return done;
    }

    /// <summary><c>iommu_iova_to_phys</c>: identity translates to itself, blocking to nothing, others through the op.</summary>
    public static bool IovaToPhys(IommuDomain domain, Iova iova, out PhysAddr physical)
    {
        if (domain.Type == IommuDomainType.Identity)
        {
            physical = new PhysAddr(iova.Value);
            return true;
        }

        if (domain.Type == IommuDomainType.Blocked || domain.Ops.IovaToPhys is null)
        {
            physical = default;
            return false;
        }

        return domain.Ops.IovaToPhys(domain, iova, out physical);
    }

    /// <summary>
    /// <c>iommu_pgsize</c>: the largest page size allowed by the bitmap, the alignment of iova|paddr and the
    /// remaining size, and how many such pages fit before a larger size becomes usable.
    /// </summary>
    internal static ulong PickPageSize(ulong bitmap, ulong iova, ulong physical, ulong size, out ulong count)
    {
        var merged = iova | physical;

        // Sizes the domain supports that are no larger than what is left and no larger than the alignment.
        var sizes = bitmap & LowBitsThrough(BitOperations.Log2(size));
        if (merged != 0)
        {
            sizes &= LowBitsThrough(BitOperations.TrailingZeroCount(merged));
        }

        if (sizes == 0)
        {
            throw new InvalidOperationException($"no page size in 0x{bitmap:x} fits iova 0x{iova:x} size 0x{size:x}");
        }

        var shift = BitOperations.Log2(sizes);
        var pageSize = 1UL << shift;

        // Map only up to where the next larger page size could take over, if both addresses are offset alike.
        var larger = bitmap & ~LowBitsThrough(shift);
        if (larger != 0)
        {
            var next = 1UL << BitOperations.TrailingZeroCount(larger);
            if (((iova ^ physical) & (next - 1)) == 0)
            {
                var untilBoundary = next - (merged & (next - 1));
                if (untilBoundary + next <= size)
                {
                    size = untilBoundary;
                }
            }
        }

        count = size >> shift;
        return pageSize;
    }

    private static ulong LowBitsThrough(int bit) => bit >= 63 ? ulong.MaxValue : (2UL << bit) - 1;

    private Errno Attach(IommuDomain domain, IommuDevice device, IommuDomain? old) =>
        domain.Ops.AttachDev is { } attach ? attach(domain, device, old) : Errno.EINVAL;

    private void Rollback(List<(IommuDevice Device, IommuDomain Old)> switched)
    {
        foreach (var (device, old) in switched)
        {
            var current = _ridDomains[device];
            var errno = Attach(old, device, current);
            if (errno != Errno.None)
            {
                throw new InvalidOperationException($"{device.Ops.Name}: restoring {device} to its old domain failed with {errno}");
            }

            _ridDomains[device] = old;
        }
    }
}
