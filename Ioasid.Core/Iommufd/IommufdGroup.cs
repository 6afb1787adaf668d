using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// The context's record of one iommu group (the kernel's <c>iommufd_group</c>): for each PASID (IOMMU_NO_PASID for
/// the RID) the HWPT the group uses and which of its devices asked for it. Only the first device's attach reaches
/// the hardware; every device of a group must name the same HWPT.
/// </summary>
internal sealed class IommufdGroup(IommuGroup group)
{
    public IommuGroup Group { get; } = group;

    public Dictionary<Pasid, (Hwpt Hwpt, HashSet<IommufdDevice> Devices)> Attachments { get; } = new();
}
