using System.Collections.Generic;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Cli.Scripting;

// The Intel VT-d family's state: one driver (created by the first `vtd add`) and its units by name; each VT-d
// device remembers the unit it was added behind.
internal sealed partial class Session
{
    private VtdIommuDriver? _vtd;

    /// <summary>The VT-d driver, registered with the IOMMU core on first use.</summary>
    public VtdIommuDriver Vtd
    {
        get
        {
            if (_vtd is null)
            {
                _vtd = new VtdIommuDriver(Iommu, Machine.Memory);
                Iommu.RegisterDriver(_vtd.Ops);
            }

            return _vtd;
        }
    }

    /// <summary>VT-d units by name.</summary>
    public Dictionary<string, VtdUnit> VtdUnits { get; } = new();

    /// <summary>Which unit each VT-d device (by RID) sits behind.</summary>
    public Dictionary<Rid, string> VtdDeviceUnits { get; } = new();

    /// <summary>The VT-d unit named <paramref name="name"/>.</summary>
    public VtdUnit VtdUnit(string name) =>
        VtdUnits.TryGetValue(name, out var unit) ? unit : throw new IoasidException(Errno.ENODEV, $"no VT-d unit named '{name}'");
}
