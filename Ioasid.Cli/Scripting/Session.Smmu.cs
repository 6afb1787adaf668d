using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// The session's SMMUv3 side: units created with <c>smmu add</c> register with their own IOMMU core (the session's
/// main core offers every device to the mock IOMMU first), and devices put behind them with <c>smmu device add</c>
/// are probed there. iommufd binds them like any device (<c>smmu bind</c>), after which the generic device, IOAS and
/// HWPT commands apply.
/// </summary>
internal sealed partial class Session
{
    private IommuCore? _smmuCore;

    /// <summary>The IOMMU core the SMMUv3 units are registered with.</summary>
    public IommuCore SmmuCore => _smmuCore ??= new IommuCore();

    /// <summary>SMMUv3 drivers (with their hardware) by unit name.</summary>
    public Dictionary<string, SmmuV3Driver> SmmuUnits { get; } = new();

    /// <summary>Devices behind SMMUv3 units, by name.</summary>
    public Dictionary<string, IommuDevice> SmmuDevices { get; } = new();

    /// <summary>The SMMUv3 device named <paramref name="name"/>.</summary>
    public IommuDevice SmmuDevice(string name) =>
        SmmuDevices.TryGetValue(name, out var device) ? device : throw new IoasidException(Errno.ENODEV, $"no SMMUv3 device named '{name}'");

    /// <summary>The SMMUv3 unit named <paramref name="name"/>.</summary>
    public SmmuV3Driver SmmuUnit(string name) =>
        SmmuUnits.TryGetValue(name, out var unit) ? unit : throw new IoasidException(Errno.ENODEV, $"no SMMUv3 unit named '{name}'");
}
