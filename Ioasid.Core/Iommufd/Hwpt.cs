using System;
using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A hardware page table (the kernel's <c>iommufd_hw_pagetable</c>): an IOMMU domain that devices and PASIDs attach
/// to. A <see cref="HwptPaging"/> mirrors an IOAS; a <see cref="HwptNested"/> is a user-owned stage-1 configuration
/// over a paging nest parent.
/// </summary>
public abstract class Hwpt : IommufdObject
{
    private protected Hwpt(IommufdContext context, IoasidId id, IommuCore core, IommuDomain domain, HwptAllocFlags flags)
        : base(context, id)
    {
        Core = core;
        Domain = domain;
        Flags = flags;
    }

    /// <summary>The IOMMU domain.</summary>
    public IommuDomain Domain { get; }

    /// <summary>The IOMMU_HWPT_ALLOC flags it was created with (none for an automatic HWPT).</summary>
    public HwptAllocFlags Flags { get; }

    /// <summary>Whether PASIDs may attach to it (allocated with <see cref="HwptAllocFlags.Pasid"/>).</summary>
    public bool IsPasidCompatible => (Flags & HwptAllocFlags.Pasid) != 0;

    /// <summary>The paging HWPT whose IOAS this one translates through: itself, or a nested HWPT's parent.</summary>
    public abstract HwptPaging PagingHwpt { get; }

    /// <summary>The IOAS behind the HWPT (a nested HWPT's parent's); its reserved ranges bind attached RIDs.</summary>
    public Ioas Ioas => PagingHwpt.OwnIoas;

    /// <summary>Whether an attach to an IOAS created it, so that the last detach destroys it.</summary>
    public virtual bool IsAuto => false;

    internal IommuCore Core { get; }

    /// <summary>
    /// IOMMU_HWPT_INVALIDATE: hands <paramref name="entryCount"/> driver-format entries of <paramref name="entryLength"/>
    /// bytes to the domain's <c>cache_invalidate_user</c>, in order, stopping at the first failure. Returns how many
    /// were handled; a failure throws with that count in the message and <paramref name="handled"/> set, as the kernel
    /// always writes <c>entry_num</c> back. EINVAL on a paging HWPT (only nested ones take user invalidations);
    /// EOPNOTSUPP when the driver has no such op; the driver's errno otherwise.
    /// </summary>
    public void Invalidate(uint dataType, ReadOnlySpan<byte> entries, uint entryLength, uint entryCount, out uint handled)
    {
        handled = 0;
        lock (Context.Sync)
        {
            if (this is not HwptNested)
            {
                throw new IoasidException(Errno.EINVAL, $"HWPT {Id} is a {Kind}; IOMMU_HWPT_INVALIDATE takes a nested HWPT");
            }

            if (Domain.Ops.CacheInvalidateUser is not { } invalidate)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"{Domain} takes no user invalidation");
            }

            // With no entries the driver is still asked: that is how userspace probes whether dataType is supported.
            if (entryCount != 0 && (entryLength == 0 || (ulong)entries.Length < (ulong)entryLength * entryCount))
            {
                throw new IoasidException(Errno.EINVAL, $"{entryCount} entries of {entryLength} bytes do not fit in {entries.Length} bytes");
            }

            var errno = invalidate(Domain, dataType, entries[..checked((int)(entryLength * entryCount))], entryLength, out handled);
            if (errno != Errno.None)
            {
                throw new IoasidException(errno, $"HWPT {Id}: invalidation stopped after {handled} of {entryCount} entries");
            }
        }
    }
}
