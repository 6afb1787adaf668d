using System.Collections.Generic;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

/// <summary>
/// The library a driver's <c>device_group</c> op calls (the kernel's <c>pci_device_group</c>,
/// <c>generic_device_group</c>): it finds or creates the group of a device from the PCI topology.
/// </summary>
public sealed class IommuGroups
{
    private readonly Dictionary<object, IommuGroup> _byIsolationPoint = new();
    private int _nextId;

    /// <summary>
    /// <c>pci_device_group</c>: walking from the device towards the root, the topmost bridge or switch port
    /// without ACS isolation makes every device below it one group; functions of one slot without ACS share a
    /// group; otherwise the device is alone.
    /// </summary>
    public IommuGroup PciDeviceGroup(IommuDevice device)
    {
        object isolationPoint = device.Pci;
        for (var bridge = device.Pci.Upstream; bridge is not null; bridge = bridge.Upstream)
        {
            if (!bridge.Acs)
            {
                isolationPoint = bridge;
            }
        }

        if (ReferenceEquals(isolationPoint, device.Pci) && !device.Pci.Acs)
        {
            // Functions of one multifunction slot without ACS can reach each other directly.
            isolationPoint = (device.Pci.Upstream, device.Rid.Segment, device.Rid.Bus, device.Rid.Device);
        }

        return GroupFor(isolationPoint);
    }

    /// <summary><c>generic_device_group</c>: a group of its own for every device.</summary>
    public IommuGroup GenericDeviceGroup(IommuDevice device) => GroupFor(device.Pci);

    /// <summary><c>generic_single_device_group</c>: one group for every device behind the same unit.</summary>
    public IommuGroup SingleGroupPerUnit(IommuDevice device) => GroupFor(device.Unit);

    private IommuGroup GroupFor(object isolationPoint)
    {
        if (!_byIsolationPoint.TryGetValue(isolationPoint, out var group))
        {
            group = new IommuGroup(_nextId++);
            _byIsolationPoint.Add(isolationPoint, group);
        }

        return group;
    }
}
