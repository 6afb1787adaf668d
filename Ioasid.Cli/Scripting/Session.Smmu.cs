using System.Collections.Generic;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Cli.Scripting;

// The ARM SMMUv3 family's state: each `smmu add` creates one SMMU (hardware + driver) registered with the session's
// IOMMU core, as VT-d units are; each SMMUv3 device remembers the unit it was added behind, so that exactly that
// SMMU claims it at probe and the mock IOMMU skips it. From then on it is a device like any other: `device bind`,
// `device attach`, IOAS and HWPT commands apply.
internal sealed partial class Session
{
    /// <summary>SMMUv3 drivers (with their hardware) by unit name.</summary>
    public Dictionary<string, SmmuV3Driver> SmmuUnits { get; } = new();

    /// <summary>Which SMMUv3 unit each SMMUv3 device (by RID) sits behind.</summary>
    public Dictionary<Rid, string> SmmuDeviceUnits { get; } = new();

    /// <summary>The SMMUv3 unit named <paramref name="name"/>.</summary>
    public SmmuV3Driver SmmuUnit(string name) =>
        SmmuUnits.TryGetValue(name, out var unit) ? unit : throw new IoasidException(Errno.ENODEV, $"no SMMUv3 unit named '{name}'");
}
