using System;
using System.Numerics;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// The IOVA bookkeeping of one IOAS (the interval half of the kernel's <c>io_pagetable</c>): the areas, the
/// reservations, the allowed ranges and <c>iova_alignment</c>, with the kernel's rules and errnos for the operations
/// that involve more than one of them.
/// </summary>
/// <remarks>
/// The IOAS layer owns locking (the kernel's <c>iova_rwsem</c>), pages, domains and accesses; this type only keeps
/// the three trees consistent with each other: reservations never intersect areas or allowed ranges, allowed ranges
/// never intersect reservations, and areas are placed only where <see cref="CheckIova"/> or
/// <see cref="AllocateIova"/> said they fit (FIXED_IOVA maps are deliberately not checked against allowed ranges,
/// as in the kernel).
/// </remarks>
/// <typeparam name="TArea">Payload of an area (the IOAS's area object).</typeparam>
internal sealed class IovaSpace<TArea>
{
    private IntervalMap<NoValue> _allowed = new();
    private ulong _iovaAlignment = 1;

    /// <summary>The areas (<c>area_itree</c>). Insert and remove areas here after checking or allocating their IOVA.</summary>
    public IntervalMap<TArea> Areas { get; } = new();

    /// <summary>The reservations (<c>reserved_itree</c>). Add them through <see cref="ReserveIova"/> so the checks apply.</summary>
    public ReservedRanges Reserved { get; } = new();

    /// <summary>The allowed ranges (<c>allowed_itree</c>); replaced as a whole by <see cref="SetAllowedIovas"/>.</summary>
    public IntervalMap<NoValue> Allowed => _allowed;

    /// <summary>
    /// The IOAS's <c>iova_alignment</c>: a power of two, 1 for a fresh IOAS. The IOAS layer recomputes it from its
    /// domains, accesses and the large-page setting and stores it here.
    /// </summary>
    public ulong IovaAlignment
    {
        get => _iovaAlignment;
        set
        {
            if (!BitOperations.IsPow2(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), "iova_alignment must be a power of two.");
            }

            _iovaAlignment = value;
        }
    }

    /// <summary>
    /// Checks a FIXED_IOVA placement of <paramref name="length"/> bytes at <paramref name="iova"/> (the kernel's
    /// <c>iopt_check_iova</c>), in the kernel's order: misaligned IOVA → <see cref="Errno.EINVAL"/>; end overflows →
    /// <see cref="Errno.EOVERFLOW"/>; hits a reservation → <see cref="Errno.EINVAL"/>; hits an area →
    /// <see cref="Errno.EEXIST"/>. A zero length is <see cref="Errno.EINVAL"/> (the kernel rejects it just before).
    /// O(log n + log R).
    /// </summary>
    public Errno CheckIova(ulong iova, ulong length)
    {
        if (length == 0)
        {
            return Errno.EINVAL;
        }

        if ((iova & (_iovaAlignment - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        if (iova > ulong.MaxValue - (length - 1))
        {
            return Errno.EOVERFLOW;
        }

        ulong last = iova + (length - 1);
        if (Reserved.Intersects(iova, last))
        {
            return Errno.EINVAL;
        }

        return Areas.Intersects(iova, last) ? Errno.EEXIST : Errno.None;
    }

    /// <summary>
    /// Chooses an IOVA for <paramref name="length"/> bytes mapped from <paramref name="sourceAddress"/> (the kernel's
    /// <c>iopt_alloc_iova</c>): <see cref="Errno.EOVERFLOW"/> for a zero or huge length, <see cref="Errno.EINVAL"/>
    /// when the natural alignment is below <see cref="IovaAlignment"/>, <see cref="Errno.ENOSPC"/> when no hole fits.
    /// Does not insert the area. O(log n) with few allowed ranges and reservations; no allocation.
    /// </summary>
    /// <param name="sourceAddress">User VA (or file offset) the mapping starts at: gives the alignment and page offset.</param>
    /// <param name="length">Bytes to map.</param>
    /// <param name="maxAlignment">
    /// Alignment cap: <see cref="AutoIovaAlignment.HugePageSize"/> with transparent huge pages, else
    /// <see cref="AutoIovaAlignment.PageSize"/>.
    /// </param>
    /// <param name="iova">The chosen IOVA (never 0).</param>
    public Errno AllocateIova(ulong sourceAddress, ulong length, ulong maxAlignment, out ulong iova)
    {
        iova = 0;
        Errno rc = AutoIovaAlignment.TryCompute(sourceAddress, length, maxAlignment, _iovaAlignment, out ulong alignment);
        if (rc != Errno.None)
        {
            return rc;
        }

        ulong pageOffset = sourceAddress % AutoIovaAlignment.PageSize;
        return IovaAllocator.TryAllocate(Areas, Reserved, _allowed, length, alignment, pageOffset, out iova)
            ? Errno.None
            : Errno.ENOSPC;
    }

    /// <summary>
    /// Reserves <c>[start, last]</c> for <paramref name="owner"/> (the kernel's <c>iopt_reserve_iova</c>):
    /// <see cref="Errno.EADDRINUSE"/> if it intersects an area or an allowed range. O(R + log n).
    /// </summary>
    public Errno ReserveIova(ulong start, ulong last, object? owner)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), "A reserved range's last address must not be below its start.");
        }

        if (Areas.Intersects(start, last) || _allowed.Intersects(start, last))
        {
            return Errno.EADDRINUSE;
        }

        Reserved.Add(start, last, owner);
        return Errno.None;
    }

    /// <summary>Drops every reservation of <paramref name="owner"/> (device detach, domain removal). O(R).</summary>
    /// <returns>How many reservations were removed.</returns>
    public int RemoveReservedIova(object? owner) => Reserved.RemoveOwner(owner);

    /// <summary>
    /// Replaces the allowed ranges atomically (IOMMU_IOAS_ALLOW_IOVAS): a range with <c>Start &gt;= Last</c> or one
    /// overlapping an earlier range of the list → <see cref="Errno.EINVAL"/>; a range intersecting a reservation →
    /// <see cref="Errno.EADDRINUSE"/>. On failure the old list stays. An empty list clears it. Existing areas are not
    /// checked, as in the kernel.
    /// </summary>
    public Errno SetAllowedIovas(ReadOnlySpan<IovaRange> ranges)
    {
        var next = new IntervalMap<NoValue>();
        foreach (IovaRange r in ranges)
        {
            if (r.Start >= r.Last || !next.TryInsert(r.Start, r.Last, default, out _))
            {
                return Errno.EINVAL;
            }
        }

        foreach (Interval<NoValue> r in next)
        {
            if (Reserved.Intersects(r.Start, r.Last))
            {
                return Errno.EADDRINUSE;
            }
        }

        _allowed = next;
        return Errno.None;
    }

    /// <summary>
    /// The usable IOVA ranges reported by IOMMU_IOAS_IOVA_RANGES: the holes of the reservations over the whole
    /// 64-bit space, ascending (allowed ranges do not narrow it).
    /// </summary>
    public ReservedRanges.HoleEnumerator EnumerateIovaRanges() => Reserved.EnumerateHoles(0, ulong.MaxValue);
}
