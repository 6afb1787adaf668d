using System;
using System.Collections.Generic;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

// Shared Virtual Addressing (drivers/iommu/iommu-sva.c): one global PASID per address space, kept while it lives;
// per address space the list of SVA domains (one per driver that cannot share another's); refcounted bonds.
public sealed partial class IommuCore
{
    private readonly Dictionary<UserAddressSpace, SvaMm> _svaMms = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(IommuDevice Device, Pasid Pasid), IommuSva> _svaBonds = new();

    /// <summary>The global PASID space SVA allocates from (never PASID 0).</summary>
    public GlobalPasidAllocator GlobalPasids { get; } = new();

    /// <summary>
    /// <c>iommu_sva_bind_device</c>: lets <paramref name="device"/> use <paramref name="mm"/> on the address space's
    /// PASID. The first bind of an address space gives it a global PASID (kept until it exits); a device already bound to
    /// it gets the same handle with one more user; otherwise each SVA domain of the address space is tried
    /// (<c>set_dev_pasid</c>; another driver's domain is refused), and only then a new one is allocated with the
    /// driver's <c>domain_alloc_sva</c>, which builds the process's CPU page table if it had none.
    /// </summary>
    /// <returns>The bond; <see cref="IommuSva.Pasid"/> is what the device tags its DMA with.</returns>
    /// <exception cref="IoasidException">
    /// ENODEV: the device is not managed by this core. EOVERFLOW: the address space's PASID is beyond the device's PASID
    /// width. ENOSPC: the device has no PASID support, or no global PASID is free within its width. EBUSY: the PASID
    /// of the device is used by another domain. EOPNOTSUPP: the driver has no <c>domain_alloc_sva</c> or its hardware
    /// cannot do SVA. Errors of <c>domain_alloc_sva</c> and <c>set_dev_pasid</c> as they come. On any error nothing is
    /// left changed — where the kernel keeps a freshly allocated PASID for the address space's lifetime, the model gives
    /// it back so that a failed call has no effect.
    /// </exception>
    /// <exception cref="InvalidOperationException">The process has exited (the kernel requires a live <c>mm_users</c>).</exception>
    public IommuSva BindSva(IommuDevice device, UserAddressSpace mm)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(mm);
        if (!_devices.TryGetValue(device.Rid, out var known) || known != device)
        {
            throw new IoasidException(Errno.ENODEV, $"{device} is not managed by this IOMMU core");
        }

        if (!mm.IsLive)
        {
            throw new InvalidOperationException($"pid {mm.Owner.Pid} has exited; its address space cannot be bound");
        }

        // iommu_alloc_mm_data: the address space's PASID, existing or new.
        _svaMms.TryGetValue(mm, out var svaMm);
        Pasid pasid;
        if (svaMm is not null)
        {
            if (svaMm.Pasid.Value >= device.MaxPasids)
            {
                throw new IoasidException(Errno.EOVERFLOW, $"PASID {svaMm.Pasid} of pid {mm.Owner.Pid} is beyond the {device.MaxPasids} PASIDs of {device}");
            }

            pasid = svaMm.Pasid;
        }
        else if (!GlobalPasids.TryAllocate(device.MaxPasids, out pasid))
        {
            throw new IoasidException(Errno.ENOSPC, $"no global PASID free below {device.MaxPasids} for {device}");
        }

        var fresh = svaMm is null;
        var hadTable = mm.CpuPageTable is not null;
        try
        {
            return Bond(device, mm, svaMm, pasid);
        }
        catch
        {
            if (fresh)
            {
                GlobalPasids.Free(pasid);
                if (!hadTable)
                {
                    mm.DropUnusedCpuPageTable();
                }
            }

            throw;
        }
    }

    /// <summary>The global PASID of an address space bound for SVA (kept until it exits), or null.</summary>
    public Pasid? SvaPasidOf(UserAddressSpace mm) => _svaMms.TryGetValue(mm, out var svaMm) ? svaMm.Pasid : null;

    /// <summary>The SVA domains of an address space (<c>iommu_mm-&gt;sva_domains</c>), newest last.</summary>
    public IReadOnlyList<IommuDomain> SvaDomainsOf(UserAddressSpace mm)
    {
        var list = new List<IommuDomain>();
        if (_svaMms.TryGetValue(mm, out var svaMm))
        {
            foreach (var entry in svaMm.Domains)
            {
                list.Add(entry.Domain);
            }
        }

        return list;
    }

    /// <summary>The bond of <paramref name="device"/> at <paramref name="pasid"/>, or null.</summary>
    public IommuSva? GetSvaBond(IommuDevice device, Pasid pasid) => _svaBonds.TryGetValue((device, pasid), out var bond) ? bond : null;

    internal void UnbindSva(IommuSva bond)
    {
        if (bond.Users == 0)
        {
            throw new InvalidOperationException($"{bond} is already unbound");
        }

        if (--bond.Users > 0)
        {
            return;
        }

        _svaBonds.Remove((bond.Device, bond.Pasid));
        if (ReferenceEquals(GetPasidDomain(bond.Device, bond.Pasid), bond.Domain))
        {
            RemovePasid(bond.Device, bond.Pasid); // iommu_detach_device_pasid
        }

        var svaMm = _svaMms[bond.Mm];
        var index = svaMm.Domains.FindIndex(e => ReferenceEquals(e.Domain, bond.Domain));
        var entry = svaMm.Domains[index];
        if (--entry.Users == 0)
        {
            svaMm.Domains.RemoveAt(index);
            FreeDomain(bond.Domain);
        }

        svaMm.DropIfUnused();
    }

    private IommuSva Bond(IommuDevice device, UserAddressSpace mm, SvaMm? svaMm, Pasid pasid)
    {
        // A bond already exists: one more user. Anything else at that PASID makes it busy.
        if (GetPasidDomain(device, pasid) is not null)
        {
            if (_svaBonds.TryGetValue((device, pasid), out var existing) && ReferenceEquals(existing.Mm, mm))
            {
                existing.Users++;
                return existing;
            }

            throw new IoasidException(Errno.EBUSY, $"PASID {pasid} of {device} is used by another domain");
        }

        if (svaMm is not null)
        {
            foreach (var entry in svaMm.Domains)
            {
                if (SetPasid(device, pasid, entry.Domain) == Errno.None)
                {
                    entry.Users++;
                    return AddBond(device, mm, entry.Domain, pasid);
                }
            }
        }

        if (device.Ops.DomainAllocSva is not { } alloc)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"{device.Ops.Name} has no domain_alloc_sva");
        }

        mm.EnsureCpuPageTable();
        var domain = alloc(device, mm);
        if ((domain.Type & IommuDomainType.Sva) == 0)
        {
            throw new InvalidOperationException($"{device.Ops.Name}: domain_alloc_sva must return an SVA domain");
        }

        domain.Owner = device.Ops;
        var errno = SetPasid(device, pasid, domain);
        if (errno != Errno.None)
        {
            FreeDomain(domain);
            throw new IoasidException(errno, $"{device.Ops.Name}: the SVA domain could not be set on PASID {pasid} of {device}");
        }

        if (svaMm is null)
        {
            svaMm = new SvaMm(this, mm, pasid);
            mm.RegisterMmuNotifier(svaMm);
            _svaMms.Add(mm, svaMm);
        }

        svaMm.Domains.Add(new SvaDomainEntry(domain));
        return AddBond(device, mm, domain, pasid);
    }

    private IommuSva AddBond(IommuDevice device, UserAddressSpace mm, IommuDomain domain, Pasid pasid)
    {
        var bond = new IommuSva(this, device, mm, domain, pasid);
        _svaBonds.Add((device, pasid), bond);
        return bond;
    }

    private sealed class SvaDomainEntry(IommuDomain domain)
    {
        public IommuDomain Domain { get; } = domain;

        public int Users { get; set; } = 1;
    }

    // The kernel's iommu_mm_data: the PASID and SVA domains of one address space. It lives until the address space
    // has exited and its last domain is gone (mm_pasid_drop at mmdrop), then gives the PASID back.
    private sealed class SvaMm(IommuCore core, UserAddressSpace mm, Pasid pasid) : IMmuNotifier
    {
        private bool _released;

        public Pasid Pasid { get; } = pasid;

        public List<SvaDomainEntry> Domains { get; } = new();

        public void InvalidateRange(UserAddressSpace space, ulong start, ulong end)
        {
            // The core caches no translations; the drivers' own notifiers invalidate their hardware.
        }

        public void Release(UserAddressSpace space)
        {
            _released = true;
            DropIfUnused();
        }

        public void DropIfUnused()
        {
            if (!_released || Domains.Count > 0)
            {
                return;
            }

            core._svaMms.Remove(mm);
            core.GlobalPasids.Free(Pasid);
        }
    }
}
