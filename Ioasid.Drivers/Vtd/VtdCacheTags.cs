using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Vtd;

/// <summary>One (unit, domain id) a domain is installed under, with how many (device, PASID) slots use it.</summary>
/// <param name="Unit">The unit.</param>
/// <param name="DomainId">The domain's DID on that unit.</param>
/// <param name="Users">PASID-table or context slots installed with it.</param>
public readonly record struct VtdUnitTag(VtdUnit Unit, ushort DomainId, int Users);

/// <summary>One place a domain is installed: a device's PASID (RID_PASID for the RID) on a unit, under a DID.</summary>
/// <param name="Device">The device's driver data.</param>
/// <param name="Pasid">The PASID slot.</param>
/// <param name="Unit">The unit.</param>
/// <param name="DomainId">The DID written into the slot.</param>
public readonly record struct VtdAttachment(VtdDeviceData Device, uint Pasid, VtdUnit Unit, ushort DomainId);

/// <summary>
/// A domain's cache tags (the kernel's <c>cache_tag</c> list): the DID it has on each unit it is attached through
/// (allocated on first attach there, freed when the last slot goes) and every (device, PASID) slot it is installed
/// in, so that invalidation reaches every unit and, for first-stage tags, every PASID.
/// </summary>
public sealed class VtdCacheTags
{
    private readonly List<VtdUnitTag> _units = new();
    private readonly List<VtdAttachment> _attachments = new();
    private readonly ushort _fixedDomainId;

    /// <summary>Tags whose DIDs are allocated per unit.</summary>
    public VtdCacheTags()
    {
    }

    /// <summary>Tags that use <paramref name="fixedDomainId"/> on every unit, never allocated or freed (SVA domains: Linux's <c>FLPT_DEFAULT_DID</c>).</summary>
    internal VtdCacheTags(ushort fixedDomainId) => _fixedDomainId = fixedDomainId;

    /// <summary>The (unit, DID) pairs.</summary>
    public IReadOnlyList<VtdUnitTag> Units => _units;

    /// <summary>The installed slots.</summary>
    public IReadOnlyList<VtdAttachment> Attachments => _attachments;

    /// <summary>The DID on <paramref name="unit"/>, if the domain has one there.</summary>
    public bool TryGetDomainId(VtdUnit unit, out ushort domainId)
    {
        foreach (VtdUnitTag tag in _units)
        {
            if (tag.Unit == unit)
            {
                domainId = tag.DomainId;
                return true;
            }
        }

        domainId = 0;
        return false;
    }

    /// <summary>The DID to use on <paramref name="unit"/>: the existing one, or a new one (ENOSPC when none is free).</summary>
    internal Errno Reserve(VtdUnit unit, out ushort domainId)
    {
        if (TryGetDomainId(unit, out domainId))
        {
            return Errno.None;
        }

        if (_fixedDomainId != 0)
        {
            domainId = _fixedDomainId;
        }
        else if (!unit.DomainIds.TryAllocate(out domainId))
        {
            return Errno.ENOSPC;
        }

        _units.Add(new VtdUnitTag(unit, domainId, 0));
        return Errno.None;
    }

    /// <summary>Undoes a <see cref="Reserve"/> that was not followed by <see cref="Add"/>.</summary>
    internal void Unreserve(VtdUnit unit)
    {
        int i = IndexOf(unit);
        if (i >= 0 && _units[i].Users == 0)
        {
            FreeDomainId(unit, _units[i].DomainId);
            _units.RemoveAt(i);
        }
    }

    internal void Add(VtdDeviceData device, uint pasid, VtdUnit unit, ushort domainId)
    {
        int i = IndexOf(unit);
        _units[i] = _units[i] with { Users = _units[i].Users + 1 };
        _attachments.Add(new VtdAttachment(device, pasid, unit, domainId));
    }

    /// <summary>Drops a slot; the DID is freed when its last slot goes (its caches were flushed by the caller).</summary>
    internal void Remove(VtdDeviceData device, uint pasid)
    {
        for (int a = 0; a < _attachments.Count; a++)
        {
            VtdAttachment at = _attachments[a];
            if (at.Device == device && at.Pasid == pasid)
            {
                _attachments.RemoveAt(a);
                int i = IndexOf(at.Unit);
                int users = _units[i].Users - 1;
                if (users == 0)
                {
                    FreeDomainId(at.Unit, _units[i].DomainId);
                    _units.RemoveAt(i);
                }
                else
                {
                    _units[i] = _units[i] with { Users = users };
                }

                return;
            }
        }
    }

    private void FreeDomainId(VtdUnit unit, ushort domainId)
    {
        if (_fixedDomainId == 0)
        {
            unit.DomainIds.Free(domainId);
        }
    }

    private int IndexOf(VtdUnit unit)
    {
        for (int i = 0; i < _units.Count; i++)
        {
            if (_units[i].Unit == unit)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>What the driver's attach code needs from any VT-d domain it installs.</summary>
internal interface IVtdDomain
{
    /// <summary>The domain's tags; null for the identity domain (fixed DID 1).</summary>
    VtdCacheTags? Tags { get; }

    /// <summary>Whether the domain's format and sizes work on <paramref name="unit"/>.</summary>
    bool CanAttach(VtdUnit unit, bool pasid);

    /// <summary>The scalable-mode PASID entry installing the domain on <paramref name="unit"/> under <paramref name="domainId"/>.</summary>
    Hardware.Vtd.PasidEntry PasidEntryFor(VtdUnit unit, ushort domainId);

    /// <summary>The legacy context entry, or null when the domain has no legacy-mode form.</summary>
    Hardware.Vtd.ContextEntry? LegacyContextFor(VtdUnit unit, ushort domainId);
}
