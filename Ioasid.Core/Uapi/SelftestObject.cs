using System;
using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Uapi;

/// <summary>
/// An <c>IOMMUFD_OBJ_SELFTEST</c> object: the handle IOMMU_TEST_OP_MOCK_DOMAIN returns for a mock device
/// (<c>out_stdev_id</c>). IOMMU_DESTROY of it detaches, unbinds and removes the device.
/// </summary>
public sealed class SelftestObject : IommufdObject
{
    private readonly Action _onDestroy;

    internal SelftestObject(IommufdContext context, IoasidId id, Action onDestroy)
        : base(context, id) => _onDestroy = onDestroy;

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.Selftest;

    /// <summary>What the selftest handler attached to the object (its mock device state).</summary>
    public object? State { get; set; }

    private protected override void Release() => _onDestroy();
}
