using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A nested hardware page table (the kernel's <c>iommufd_hwpt_nested</c>): a user-owned stage-1 configuration (a
/// guest page table or STE in user memory) translated through the stage-2 domain of a <see cref="HwptPaging"/>
/// nest parent. It has no IOAS of its own: the guest changes its table and tells the hardware with
/// <see cref="Hwpt.Invalidate"/>. It holds its parent, which therefore cannot be destroyed first (EBUSY).
/// </summary>
public sealed class HwptNested : Hwpt
{
    internal HwptNested(IommufdContext context, IoasidId id, IommuCore core, IommuDomain domain, HwptPaging parent, HwptAllocFlags flags, uint dataType)
        : base(context, id, core, domain, flags)
    {
        Parent = parent;
        DataType = dataType;
        parent.AddUser();
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.HwptNested;

    /// <summary>The stage-2 nest parent.</summary>
    public HwptPaging Parent { get; }

    /// <inheritdoc />
    public override HwptPaging PagingHwpt => Parent;

    /// <summary>The IOMMU_HWPT_DATA_* type of the user data it was made from (VTD_S1 1, ARM_SMMUV3 2).</summary>
    public uint DataType { get; }

    private protected override void Release()
    {
        Core.FreeDomain(Domain);
        Parent.RemoveUser();
    }
}
