using System;
using System.Collections.Generic;

namespace Ioasid.Drivers.Hardware;

/// <summary>
/// The endpoints behind one IOMMU that have ATS enabled, each with its <see cref="DeviceTlb"/>: the state of the
/// Enable bit in each device's ATS control register, which the driver sets through PCI configuration space
/// (<c>pci_enable_ats</c>) — not an IOMMU register. A hardware model sends DMA from these requesters through their
/// device TLB first, and forwards its ATS invalidation commands to them. Shared by every hardware model.
/// </summary>
/// <remarks>Not thread-safe, like the hardware model owning it.</remarks>
public sealed class AtsEndpoints
{
    private readonly Dictionary<Rid, DeviceTlb> _endpoints = new();
    private readonly Action? _changed;

    /// <summary>Creates an empty set; <paramref name="changed"/> runs whenever an endpoint enables or disables ATS.</summary>
    public AtsEndpoints(Action? changed = null) => _changed = changed;

    /// <summary>Endpoints with ATS enabled.</summary>
    public int Count => _endpoints.Count;

    /// <summary>Their device TLBs (a collection whose enumeration allocates nothing).</summary>
    public Dictionary<Rid, DeviceTlb>.ValueCollection DeviceTlbs => _endpoints.Values;

    /// <summary>
    /// Sets the ATS Enable bit of <paramref name="rid"/>: from now on its DMA goes through a device TLB (empty when
    /// newly enabled). Enabling an enabled endpoint keeps its device TLB.
    /// </summary>
    /// <returns>The endpoint's device TLB.</returns>
    public DeviceTlb Enable(Rid rid, int capacity = DeviceTlb.DefaultCapacity)
    {
        if (!_endpoints.TryGetValue(rid, out DeviceTlb? tlb))
        {
            tlb = new DeviceTlb(rid, capacity);
            _endpoints.Add(rid, tlb);
            _changed?.Invoke();
        }

        return tlb;
    }

    /// <summary>Clears the ATS Enable bit of <paramref name="rid"/>; the device drops its device TLB with it.</summary>
    /// <returns>Whether ATS was enabled.</returns>
    public bool Disable(Rid rid)
    {
        if (!_endpoints.Remove(rid, out DeviceTlb? tlb))
        {
            return false;
        }

        tlb.InvalidateAll();
        _changed?.Invoke();
        return true;
    }

    /// <summary>Whether <paramref name="rid"/> has ATS enabled.</summary>
    public bool IsEnabled(Rid rid) => _endpoints.ContainsKey(rid);

    /// <summary>The device TLB of <paramref name="rid"/>, or null when it has no ATS enabled.</summary>
    public DeviceTlb? Find(Rid rid) => _endpoints.TryGetValue(rid, out DeviceTlb? tlb) ? tlb : null;
}
