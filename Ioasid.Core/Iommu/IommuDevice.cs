using System.Collections.Generic;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

/// <summary>
/// A device the IOMMU layer manages: a probed <see cref="PciDevice"/> with its driver, the unit that translates it,
/// its group, and the driver's per-device data (<c>dev_iommu_priv</c>: Intel's device_domain_info, ARM's master —
/// where PASID tables and CD tables live). This is the unit of the API: attach, replace and detach name a device,
/// never a group.
/// </summary>
public sealed class IommuDevice
{
    internal IommuDevice(PciDevice pci, IommuOps ops)
    {
        Pci = pci;
        Ops = ops;
    }

    /// <summary>The PCI function.</summary>
    public PciDevice Pci { get; }

    /// <summary>The requester id of the device's DMA.</summary>
    public Rid Rid => Pci.Rid;

    /// <summary>The operations of the driver that probed the device (<c>dev_iommu_ops</c>).</summary>
    public IommuOps Ops { get; }

    /// <summary>The hardware unit that translates the device, as returned by <c>probe_device</c>.</summary>
    public IommuUnit Unit { get; internal set; } = null!;

    /// <summary>The device's isolation group, as chosen by <c>device_group</c>.</summary>
    public IommuGroup Group { get; internal set; } = null!;

    /// <summary>The driver's per-device data, set by its <c>probe_device</c> op.</summary>
    public object? DriverData { get; set; }

    /// <summary>The number of PASIDs the device supports (0 without PASID).</summary>
    public uint MaxPasids => Pci.MaxPasids;

    /// <inheritdoc />
    public override string ToString() => Pci.ToString();
}

/// <summary>
/// An iommu group: the devices the IOMMU cannot isolate from each other. It is only a constraint — every device of
/// a group must sit in the same domain — and never the unit of attachment.
/// </summary>
public sealed class IommuGroup
{
    private readonly List<IommuDevice> _devices = new();

    internal IommuGroup(int id) => Id = id;

    /// <summary>The group number, as in <c>/sys/kernel/iommu_groups/N</c>.</summary>
    public int Id { get; }

    /// <summary>The devices of the group.</summary>
    public IReadOnlyList<IommuDevice> Devices => _devices;

    internal void Add(IommuDevice device) => _devices.Add(device);

    internal void Remove(IommuDevice device) => _devices.Remove(device);

    /// <inheritdoc />
    public override string ToString() => $"group {Id}";
}
