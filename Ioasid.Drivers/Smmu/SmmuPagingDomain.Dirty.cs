using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Smmu;

// Dirty tracking through HTTU (the kernel's arm_smmu_dirty_ops): a domain allocated with DIRTY_TRACKING has DBM leaves
// and HA/HD in its CDs from the start, so the hardware always records dirty state; reading walks the table.
public sealed partial class SmmuPagingDomain
{
    [DomainOp(DomainOpKind.SetDirtyTracking)]
    private static Errno SetDirtyTracking(SmmuPagingDomain domain, bool enable) =>
        Errno.None; // always on; iommufd clears the dirty state before it starts tracking

    [DomainOp(DomainOpKind.ReadAndClearDirty)]
    private static Errno ReadAndClearDirty(SmmuPagingDomain domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty) =>
        domain.Table.ReadAndClearDirty(iova, size, noClear, dirty);
}
