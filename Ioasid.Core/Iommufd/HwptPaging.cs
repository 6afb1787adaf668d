using System;
using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A paging hardware page table (the kernel's <c>iommufd_hwpt_paging</c>): an IOMMU domain that mirrors one IOAS.
/// It holds its IOAS, and every attached device holds it. One created automatically by an attach to an IOAS is
/// destroyed when its last device leaves; one made with IOMMU_HWPT_ALLOC lives until IOMMU_DESTROY, which is EBUSY
/// while devices or nested HWPTs hold it.
/// </summary>
public sealed class HwptPaging : Hwpt
{
    private readonly bool _isAuto;

    internal HwptPaging(IommufdContext context, IoasidId id, IommuCore core, IommuDomain domain, Ioas ioas, bool isAuto, HwptAllocFlags flags)
        : base(context, id, core, domain, flags)
    {
        _isAuto = isAuto;
        OwnIoas = ioas;
        ioas.AddDomain(domain, core); // fills the domain with every mapping; throws and changes nothing on failure
        ioas.AddUser();
        ioas.AddHwpt(this);
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.HwptPaging;

    /// <inheritdoc />
    public override HwptPaging PagingHwpt => this;

    /// <inheritdoc />
    public override bool IsAuto => _isAuto;

    /// <summary>Whether nested HWPTs may use it as their stage-2 parent (<see cref="HwptAllocFlags.NestParent"/>).</summary>
    public bool IsNestParent => (Flags & HwptAllocFlags.NestParent) != 0;

    /// <summary>Whether hardware dirty logging is on (IOMMU_HWPT_SET_DIRTY_TRACKING).</summary>
    public bool IsDirtyTracking { get; private set; }

    internal Ioas OwnIoas { get; }

    /// <summary>
    /// IOMMU_HWPT_SET_DIRTY_TRACKING: turns dirty logging on or off. Enabling first clears every dirty bit over the
    /// mapped areas, so the log starts empty. EOPNOTSUPP when the domain has no dirty ops (it was not allocated with
    /// <see cref="HwptAllocFlags.DirtyTracking"/>); the driver's errno otherwise.
    /// </summary>
    public void SetDirtyTracking(bool enable)
    {
        lock (Context.Sync)
        {
            var ops = Domain.Ops;
            if (!Domain.HasDirtyOps)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"{Domain} has no dirty tracking (allocate it with DIRTY_TRACKING)");
            }

            if (enable == IsDirtyTracking)
            {
                return;
            }

            if (enable)
            {
                foreach (var area in OwnIoas.Areas)
                {
                    var scratch = DirtyBitmap.ClearOnly(area.Range.Start, AddressMath.PageSize);
                    ops.ReadAndClearDirty!(Domain, area.Range.Start, area.Range.Length, noClear: false, scratch);
                    scratch.Gather.Sync(Domain);
                }
            }

            var errno = ops.SetDirtyTracking!(Domain, enable);
            if (errno != Errno.None)
            {
                throw new IoasidException(errno, $"{Domain} refused to {(enable ? "start" : "stop")} dirty tracking");
            }

            IsDirtyTracking = enable;
        }
    }

    /// <summary>
    /// IOMMU_HWPT_GET_DIRTY_BITMAP: sets bit <c>i</c> of <paramref name="bitmap"/> when
    /// <c>[iova + i·pageSize, +pageSize)</c> was written by DMA since the last read (bits are only ever set), and
    /// clears the dirty state in the IO page table — then invalidates the IOTLB — unless <paramref name="noClear"/>.
    /// EOVERFLOW when the range wraps; EINVAL for a zero or misaligned page size or range, a range not fully covered by
    /// mappings, or a bitmap too small; EOPNOTSUPP without dirty ops.
    /// </summary>
    public void ReadAndClearDirty(Iova iova, ulong length, ulong pageSize, Span<ulong> bitmap, bool noClear = false)
    {
        lock (Context.Sync)
        {
            if (length == 0 || iova.Value + (length - 1) < iova.Value)
            {
                throw new IoasidException(Errno.EOVERFLOW, $"the range at {iova} of {length} bytes wraps");
            }

            var alignment = OwnIoas.IovaAlignment;
            if (((iova.Value | length) & (alignment - 1)) != 0)
            {
                throw new IoasidException(Errno.EINVAL, $"the range must be aligned to the IOAS alignment 0x{alignment:x}");
            }

            if (pageSize == 0 || ((iova.Value | length) & (pageSize - 1)) != 0 || (pageSize & (pageSize - 1)) != 0)
            {
                throw new IoasidException(Errno.EINVAL, $"the range must be aligned to a non-zero power-of-two page size (0x{pageSize:x})");
            }

            var ops = Domain.Ops;
            if (!Domain.HasDirtyOps)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"{Domain} has no dirty tracking");
            }

            var bits = length / pageSize;
            if ((ulong)bitmap.Length * 64 < bits)
            {
                throw new IoasidException(Errno.EINVAL, $"the bitmap holds {bitmap.Length * 64} bits; the range needs {bits}");
            }

            if (!OwnIoas.IsFullyMapped(iova.Value, iova.Value + length - 1))
            {
                throw new IoasidException(Errno.EINVAL, $"[{iova}, +0x{length:x}) is not fully covered by mappings");
            }

            var dirty = new DirtyBitmap(iova, pageSize, bits);
            var errno = ops.ReadAndClearDirty!(Domain, iova, length, noClear, dirty);
            if (!noClear)
            {
                dirty.Gather.Sync(Domain); // cached translations carry the old dirty state
            }

            if (errno != Errno.None)
            {
                throw new IoasidException(errno, $"{Domain} could not read its dirty state");
            }

            for (var i = 0; i < dirty.Bits.Length; i++)
            {
                bitmap[i] |= dirty.Bits[i];
            }
        }
    }

    private protected override void Release()
    {
        OwnIoas.RemoveHwpt(this);
        OwnIoas.RemoveDomain(Domain);
        OwnIoas.RemoveUser();
        Core.FreeDomain(Domain);
    }
}
