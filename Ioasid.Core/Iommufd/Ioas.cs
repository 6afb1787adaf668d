using System;
using System.Collections.Generic;
using Ioasid.Core.IoPageTable;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// An I/O address space (the kernel's <c>struct iommufd_ioas</c> with its <c>io_pagetable</c>): the IOVA → memory
/// mappings that every hardware page table attached to it mirrors. Map, unmap and copy follow IOMMU_IOAS_MAP,
/// IOMMU_IOAS_UNMAP and IOMMU_IOAS_COPY to the errno; a failed call changes nothing.
/// </summary>
public sealed class Ioas : IommufdObject
{
    /// <summary>The largest length the kernel accepts: <c>SIZE_MAX - PAGE_SIZE</c>.</summary>
    private const ulong MaxLength = ulong.MaxValue - AddressMath.PageSize;

    private readonly IovaSpace<IoasArea> _space = new();
    private readonly List<IommufdAccess> _accesses = new();
    private bool _largePagesDisabled;

    internal Ioas(IommufdContext context, IoasidId id)
        : base(context, id)
    {
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.Ioas;

    /// <summary>
    /// The alignment every map and copy must respect (the kernel's <c>iova_alignment</c>): 1 with nothing
    /// attached, at least 4 KiB with large pages disabled, and raised by attached domains and accesses.
    /// </summary>
    public ulong IovaAlignment
    {
        get
        {
            lock (Context.Sync)
            {
                return _space.IovaAlignment;
            }
        }
    }

    /// <summary>IOMMU_OPTION_HUGE_PAGES: whether contiguous memory may be mapped with large IOMMU pages.</summary>
    public bool HugePages
    {
        get
        {
            lock (Context.Sync)
            {
                return !_largePagesDisabled;
            }
        }
    }

    /// <summary>The number of mappings (areas).</summary>
    public int AreaCount
    {
        get
        {
            lock (Context.Sync)
            {
                return _space.Areas.Count;
            }
        }
    }

    /// <summary>The mappings in IOVA order.</summary>
    public IReadOnlyList<IoasAreaInfo> Areas
    {
        get
        {
            lock (Context.Sync)
            {
                var list = new List<IoasAreaInfo>(_space.Areas.Count);
                foreach (var area in _space.Areas)
                {
                    list.Add(Describe(area));
                }

                return list;
            }
        }
    }

    /// <summary>The mapping that contains <paramref name="iova"/>, if any.</summary>
    public IoasAreaInfo? FindArea(Iova iova)
    {
        lock (Context.Sync)
        {
            return _space.Areas.TryFind(iova.Value, out var area) ? Describe(area) : null;
        }
    }

    /// <summary>
    /// IOMMU_IOAS_MAP: maps <paramref name="length"/> bytes of the context process's memory at
    /// <paramref name="userVa"/>. With <see cref="IoasMapFlags.FixedIova"/> the mapping goes at
    /// <paramref name="iova"/>; otherwise the lowest free IOVA that keeps the source's alignment is chosen.
    /// Returns the IOVA. Errors in the kernel's order: EOPNOTSUPP (unknown flag), EOVERFLOW, EINVAL (neither
    /// READABLE nor WRITEABLE, zero or misaligned length, misaligned or reserved fixed IOVA), EEXIST (fixed IOVA
    /// overlaps a mapping), ENOSPC (no hole), EFAULT/ENOMEM (pinning for an attached domain).
    /// </summary>
    public Iova Map(ulong userVa, ulong length, IoasMapFlags flags, Iova iova = default)
    {
        CheckMapFlagsAndSizes(flags, iova.Value, length);
        if (userVa > ulong.MaxValue - length)
        {
            throw new IoasidException(Errno.EOVERFLOW, "user_va + length overflows");
        }

        lock (Context.Sync)
        {
            var pages = IoptPages.FromUser(Context.Process, userVa, length, flags.HasFlag(IoasMapFlags.Writeable), Context.AccountMode);
            return MapPages(pages, 0, length, flags, iova.Value);
        }
    }

    /// <summary>
    /// IOMMU_IOAS_MAP_FILE: maps <paramref name="length"/> bytes of <paramref name="file"/> from byte
    /// <paramref name="start"/>. A range past the end of the file → EINVAL; otherwise as <see cref="Map"/>.
    /// </summary>
    public Iova MapFile(MemFd file, ulong start, ulong length, IoasMapFlags flags, Iova iova = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        CheckMapFlagsAndSizes(flags, iova.Value, length);
        if (start > ulong.MaxValue - length)
        {
            throw new IoasidException(Errno.EOVERFLOW, "start + length overflows");
        }

        lock (Context.Sync)
        {
            if (start + length > file.Size)
            {
                throw new IoasidException(Errno.EINVAL, $"the range ends past the end of the {file.Size}-byte file");
            }

            var pages = IoptPages.FromFile(Context.Process, file, start, length, flags.HasFlag(IoasMapFlags.Writeable), Context.AccountMode);
            return MapPages(pages, 0, length, flags, iova.Value);
        }
    }

    /// <summary>
    /// IOMMU_IOAS_COPY into this IOAS: maps the memory behind <c>[sourceIova, sourceIova + length)</c> of
    /// <paramref name="source"/> (which may be this IOAS) again, sharing its pages. The source range may span
    /// several mappings but must be covered without gaps (ENOENT otherwise); asking for WRITEABLE on memory
    /// mapped read-only → EPERM. Destination rules as <see cref="Map"/>. Returns the destination IOVA.
    /// </summary>
    public Iova CopyFrom(Ioas source, Iova sourceIova, ulong length, IoasMapFlags flags, Iova iova = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckCopyArguments(flags, length, sourceIova.Value, iova.Value);
        if (source.Context != Context)
        {
            throw new IoasidException(Errno.ENOENT, "the source IOAS belongs to another context");
        }

        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            source.ThrowIfDestroyed();
            var segments = source.CollectContiguous(sourceIova.Value, length);
            return CopySegments(segments, length, flags, iova.Value);
        }
    }

    /// <summary>
    /// IOMMU_IOAS_UNMAP: removes every mapping inside <c>[iova, iova + length)</c> and returns the bytes removed.
    /// A mapping that sticks out of the range, or a range holding no mapping, → ENOENT. Unlike the kernel, which
    /// may already have removed the mappings below a mapping that sticks out, a failed unmap removes nothing.
    /// </summary>
    public ulong Unmap(Iova iova, ulong length)
    {
        if (iova.Value == 0 && length == ulong.MaxValue)
        {
            return UnmapAll();
        }

        if (iova.Value == ulong.MaxValue || length == ulong.MaxValue)
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova and length must be below ULONG_MAX");
        }

        if (length == 0)
        {
            throw new IoasidException(Errno.EINVAL, "length is 0");
        }

        if (iova.Value > ulong.MaxValue - (length - 1))
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova + length overflows");
        }

        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            return UnmapRange(iova.Value, iova.Value + (length - 1), emptyIsError: true);
        }
    }

    /// <summary>IOMMU_IOAS_UNMAP of everything (iova 0, length U64_MAX): always succeeds, returning the bytes removed.</summary>
    public ulong UnmapAll()
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            return UnmapRange(0, ulong.MaxValue, emptyIsError: false);
        }
    }

    /// <summary>
    /// IOMMU_IOAS_IOVA_RANGES: the IOVA ranges a mapping may use, i.e. the holes between reserved ranges, in
    /// ascending order. Allowed ranges do not narrow this list.
    /// </summary>
    public IReadOnlyList<IovaRange> GetIovaRanges()
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var ranges = new List<IovaRange>();
            foreach (var hole in _space.EnumerateIovaRanges())
            {
                ranges.Add(new IovaRange(new Iova(hole.Start), new Iova(hole.Last)));
            }

            return ranges;
        }
    }

    /// <summary>
    /// IOMMU_IOAS_ALLOW_IOVAS: replaces the list of ranges automatic IOVA allocation may use (an empty list
    /// clears it). A range with start ≥ last or ranges that overlap → EINVAL; a range that intersects a reserved
    /// range → EADDRINUSE. On error the old list stays.
    /// </summary>
    public void AllowIovas(ReadOnlySpan<IovaRange> ranges)
    {
        var raw = new IoPageTable.IovaRange[ranges.Length];
        for (var i = 0; i < ranges.Length; i++)
        {
            raw[i] = new IoPageTable.IovaRange(ranges[i].Start.Value, ranges[i].Last.Value);
        }

        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var errno = _space.SetAllowedIovas(raw);
            Check(errno, errno == Errno.EADDRINUSE
                ? "an allowed range intersects a reserved range"
                : "each allowed range needs start < last, and the ranges may not overlap");
        }
    }

    /// <summary>The allowed ranges set by <see cref="AllowIovas"/>, in order.</summary>
    public IReadOnlyList<IovaRange> AllowedIovas
    {
        get
        {
            lock (Context.Sync)
            {
                var list = new List<IovaRange>();
                foreach (var range in _space.Allowed)
                {
                    list.Add(new IovaRange(new Iova(range.Start), new Iova(range.Last)));
                }

                return list;
            }
        }
    }

    /// <summary>
    /// IOMMU_OPTION_HUGE_PAGES SET. Disabling raises the alignment to at least 4 KiB: a mapping that is not
    /// page aligned → EADDRINUSE; an IOAS with both a domain and a mapping → EINVAL. Enabling always succeeds.
    /// </summary>
    public void SetHugePages(bool enabled)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            if (enabled)
            {
                _largePagesDisabled = false;
                RecomputeAlignment();
                return;
            }

            if (_largePagesDisabled)
            {
                return;
            }

            if (DomainCount > 0 && _space.Areas.Count > 0)
            {
                throw new IoasidException(Errno.EINVAL, "huge pages cannot be disabled while a domain holds mappings");
            }

            var required = Math.Max(ComputeAlignment(largePagesDisabled: true), _space.IovaAlignment);
            CheckAreasAligned(required);
            _largePagesDisabled = true;
            _space.IovaAlignment = required;
        }
    }

    /// <summary>The number of domains (paging HWPTs) that mirror this IOAS. Devices arrive in a later layer.</summary>
    internal int DomainCount => 0;

    /// <summary>
    /// Reserves <c>[start, last]</c> for <paramref name="owner"/> (a domain's aperture, a device's reserved
    /// region). EADDRINUSE when it intersects a mapping or an allowed range.
    /// </summary>
    internal void Reserve(ulong start, ulong last, object owner) =>
        Check(_space.ReserveIova(start, last, owner), $"[0x{start:x}, 0x{last:x}] intersects a mapping or an allowed range");

    /// <summary>The accesses attached to the IOAS.</summary>
    internal IReadOnlyList<IommufdAccess> Accesses => _accesses;

    /// <summary>Checks that the access's alignment fits every existing mapping (EADDRINUSE otherwise).</summary>
    internal void CheckAccessFits(IommufdAccess access)
    {
        if (access.Ops.NeedsPinPages)
        {
            CheckAreasAligned(AddressMath.PageSize);
        }
    }

    /// <summary>Adds an access (ACCESS → IOAS holds a user) and raises the alignment it needs.</summary>
    internal void AddAccess(IommufdAccess access)
    {
        CheckAccessFits(access);
        _accesses.Add(access);
        AddUser();
        RecomputeAlignment();
    }

    internal void RemoveAccess(IommufdAccess access)
    {
        _accesses.Remove(access);
        RemoveUser();
        RecomputeAlignment();
    }

    /// <summary>The areas behind an access's range with the pin_pages/rw checks: ENOENT (gap), EINVAL (being unmapped), EPERM (protection).</summary>
    internal List<(IoasArea Area, ulong Offset, ulong Length)> CollectForAccess(ulong iova, ulong length, bool write)
    {
        var segments = CollectContiguous(iova, length);
        foreach (var segment in segments)
        {
            if (segment.Area.PreventAccess)
            {
                throw new IoasidException(Errno.EINVAL, "the range is being unmapped");
            }

            var needed = write ? IoasMapFlags.Writeable : IoasMapFlags.Readable;
            if (!segment.Area.Protection.HasFlag(needed))
            {
                throw new IoasidException(Errno.EPERM, write ? "the range is not mapped WRITEABLE" : "the range is not mapped READABLE");
            }
        }

        return segments;
    }

    /// <summary>The areas behind a pinned range, for unpin (the range was checked at pin time).</summary>
    internal List<(IoasArea Area, ulong Offset, ulong Length)> CollectContiguousForUnpin(ulong iova, ulong length) =>
        CollectContiguous(iova, length);

    /// <summary>Drops every reserved range of <paramref name="owner"/>.</summary>
    internal int Unreserve(object owner) => _space.RemoveReservedIova(owner);

    private protected override void Release()
    {
        // Destroying an IOAS with mappings is allowed: it unmaps everything (spec §4.7).
        UnmapRange(0, ulong.MaxValue, emptyIsError: false);
    }

    private static void CheckMapFlagsAndSizes(IoasMapFlags flags, ulong iova, ulong length)
    {
        if ((flags & ~(IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite)) != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"unknown map flags 0x{(uint)flags:x}");
        }

        if (iova == ulong.MaxValue || length == ulong.MaxValue)
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova and length must be below ULONG_MAX");
        }

        if ((flags & IoasMapFlags.ReadWrite) == 0)
        {
            throw new IoasidException(Errno.EINVAL, "a mapping must be READABLE, WRITEABLE or both");
        }
    }

    private static void CheckCopyArguments(IoasMapFlags flags, ulong length, ulong sourceIova, ulong iova)
    {
        if ((flags & ~(IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite)) != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"unknown copy flags 0x{(uint)flags:x}");
        }

        if (length == ulong.MaxValue || sourceIova == ulong.MaxValue || iova == ulong.MaxValue)
        {
            throw new IoasidException(Errno.EOVERFLOW, "length, src_iova and dst_iova must be below ULONG_MAX");
        }

        if ((flags & IoasMapFlags.ReadWrite) == 0)
        {
            throw new IoasidException(Errno.EINVAL, "a mapping must be READABLE, WRITEABLE or both");
        }

        if (length == 0)
        {
            throw new IoasidException(Errno.EINVAL, "length is 0");
        }
    }

    /// <summary>The checks every new mapping shares (MAP, MAP_FILE), then the IOVA choice and the insert.</summary>
    private Iova MapPages(IoptPages pages, ulong pagesOffset, ulong length, IoasMapFlags flags, ulong requestedIova)
    {
        ThrowIfDestroyed();
        var iova = ChooseIova(pages.SourceAddress + pagesOffset, length, flags, requestedIova);
        Insert(iova, length, new IoasArea(pages, pagesOffset, flags & IoasMapFlags.ReadWrite));
        return new Iova(iova);
    }

    private ulong ChooseIova(ulong sourceAddress, ulong length, IoasMapFlags flags, ulong requestedIova)
    {
        if (length == 0 || length > MaxLength)
        {
            throw new IoasidException(Errno.EINVAL, length == 0 ? "length is 0" : "length is larger than SIZE_MAX - PAGE_SIZE");
        }

        var alignment = _space.IovaAlignment;
        if ((length & (alignment - 1)) != 0)
        {
            throw new IoasidException(Errno.EINVAL, $"length 0x{length:x} is not a multiple of the IOAS alignment 0x{alignment:x}");
        }

        ulong iova;
        if (flags.HasFlag(IoasMapFlags.FixedIova))
        {
            iova = requestedIova;
            Check(_space.CheckIova(iova, length), FixedIovaProblem(iova, length));
        }
        else
        {
            Check(_space.AllocateIova(sourceAddress, length, AutoIovaAlignment.HugePageSize, out iova),
                "no free IOVA range fits the mapping");
        }

        // The sub-page offset of the source must itself respect the IOAS alignment.
        if (((sourceAddress % AddressMath.PageSize) & (alignment - 1)) != 0)
        {
            throw new IoasidException(Errno.EINVAL, $"the source's offset in its page, 0x{sourceAddress % AddressMath.PageSize:x}, is not aligned to 0x{alignment:x}");
        }

        return iova;
    }

    private string FixedIovaProblem(ulong iova, ulong length)
    {
        var last = iova + (length - 1);
        if ((iova & (_space.IovaAlignment - 1)) != 0)
        {
            return $"iova 0x{iova:x} is not aligned to the IOAS alignment 0x{_space.IovaAlignment:x}";
        }

        if (last < iova)
        {
            return "iova + length overflows";
        }

        return _space.Reserved.Intersects(iova, last)
            ? $"[0x{iova:x}, 0x{last:x}] intersects a reserved range"
            : $"[0x{iova:x}, 0x{last:x}] overlaps an existing mapping";
    }

    private void Insert(ulong iova, ulong length, IoasArea area)
    {
        if (!_space.Areas.TryInsert(iova, iova + (length - 1), area, out var conflict))
        {
            // ChooseIova proved the range free; a conflict here is a bug in the interval structure.
            throw new InvalidOperationException($"IOVA [0x{iova:x}, +0x{length:x}) collided with {conflict} after being found free.");
        }
    }

    /// <summary>The areas of this IOAS covering <c>[iova, iova + length)</c> without a gap, clipped to the range; ENOENT otherwise.</summary>
    private List<(IoasArea Area, ulong Offset, ulong Length)> CollectContiguous(ulong iova, ulong length)
    {
        if (iova > ulong.MaxValue - (length - 1))
        {
            throw new IoasidException(Errno.EOVERFLOW, "src_iova + length overflows");
        }

        var last = iova + (length - 1);
        var segments = new List<(IoasArea, ulong, ulong)>();
        var next = iova;
        foreach (var interval in _space.Areas.EnumerateIntersecting(iova, last))
        {
            if (interval.Start > next)
            {
                break;
            }

            var segmentLast = Math.Min(interval.Last, last);
            segments.Add((interval.Value, next - interval.Start, segmentLast - next + 1));
            if (segmentLast == last)
            {
                return segments;
            }

            next = segmentLast + 1;
        }

        throw new IoasidException(Errno.ENOENT, $"[0x{iova:x}, 0x{last:x}] of the source IOAS is not fully mapped");
    }

    private Iova CopySegments(List<(IoasArea Area, ulong Offset, ulong Length)> segments, ulong length, IoasMapFlags flags, ulong requestedIova)
    {
        ThrowIfDestroyed();
        var first = segments[0];
        var iova = ChooseIova(first.Area.SourceAddress + first.Offset, length, flags, requestedIova);
        var protection = flags & IoasMapFlags.ReadWrite;
        foreach (var segment in segments)
        {
            if (protection.HasFlag(IoasMapFlags.Writeable) && !segment.Area.Pages.Writable)
            {
                throw new IoasidException(Errno.EPERM, "WRITEABLE asked for memory that was mapped read-only");
            }

            var alignment = _space.IovaAlignment;
            if ((segment.Length & (alignment - 1)) != 0 || ((segment.Area.SourceAddress + segment.Offset) % AddressMath.PageSize & (alignment - 1)) != 0)
            {
                throw new IoasidException(Errno.EINVAL, "a piece of the source range is not aligned to the destination's alignment");
            }
        }

        var at = iova;
        foreach (var segment in segments)
        {
            segment.Area.Pages.AddRef();
            Insert(at, segment.Length, new IoasArea(segment.Area.Pages, segment.Area.PagesOffset + segment.Offset, protection));
            at += segment.Length;
        }

        return new Iova(iova);
    }

    private ulong UnmapRange(ulong start, ulong last, bool emptyIsError)
    {
        // Validate first so that a failing unmap removes nothing: only the first and the last intersecting
        // areas can stick out of the range.
        if (!_space.Areas.TryFindFirstIntersecting(start, last, out var firstArea))
        {
            return emptyIsError
                ? throw new IoasidException(Errno.ENOENT, $"nothing is mapped in [0x{start:x}, 0x{last:x}]")
                : 0UL;
        }

        if (firstArea.Start < start)
        {
            throw new IoasidException(Errno.ENOENT, $"the mapping [0x{firstArea.Start:x}, 0x{firstArea.Last:x}] starts before the range; unmap removes whole mappings only");
        }

        if (firstArea.Last >= last && firstArea.Value.AccessPins == 0)
        {
            // The common case: one whole area. Nothing else can intersect, since areas do not overlap.
            if (firstArea.Last > last)
            {
                throw new IoasidException(Errno.ENOENT, $"the mapping [0x{firstArea.Start:x}, 0x{firstArea.Last:x}] ends after the range; unmap removes whole mappings only");
            }

            _space.Areas.Remove(firstArea.Start);
            firstArea.Value.Pages.Release();
            return firstArea.Last - firstArea.Start + 1;
        }

        if (_space.Areas.TryFind(last, out var lastArea) && lastArea.Last > last)
        {
            throw new IoasidException(Errno.ENOENT, $"the mapping [0x{lastArea.Start:x}, 0x{lastArea.Last:x}] ends after the range; unmap removes whole mappings only");
        }

        ulong unmapped = 0;
        var tries = 0;
        while (_space.Areas.TryFindFirstIntersecting(start, last, out var area))
        {
            if (area.Value.AccessPins > 0)
            {
                // Accesses hold pages of the area: ask each to unpin, then look again (iopt_unmap_iova_range).
                area.Value.PreventAccess = true;
                NotifyAccessesOfUnmap(area.Start, area.Last - area.Start + 1);
                if (++tries > IommufdAccess.UnmapRetryLimit)
                {
                    throw new IoasidException(Errno.EDEADLK, $"an access keeps [0x{area.Start:x}, 0x{area.Last:x}] pinned after {tries} unmap requests");
                }

                continue;
            }

            _space.Areas.Remove(area.Start);
            area.Value.Pages.Release();
            unmapped += area.Last - area.Start + 1;
        }

        return unmapped;
    }

    private ulong ComputeAlignment(bool largePagesDisabled)
    {
        var alignment = largePagesDisabled ? AddressMath.PageSize : 1UL;
        foreach (var access in _accesses)
        {
            if (access.Ops.NeedsPinPages)
            {
                alignment = Math.Max(alignment, AddressMath.PageSize);
            }
        }

        return alignment;
    }

    private void NotifyAccessesOfUnmap(ulong iova, ulong length)
    {
        foreach (var access in _accesses.ToArray())
        {
            access.Ops.Unmap(access, new Iova(iova), length);
        }
    }

    private void RecomputeAlignment() => _space.IovaAlignment = ComputeAlignment(_largePagesDisabled);

    private void CheckAreasAligned(ulong alignment)
    {
        foreach (var area in _space.Areas)
        {
            if (((area.Start | (area.Last + 1) | area.Value.SourceAddress % AddressMath.PageSize) & (alignment - 1)) != 0)
            {
                throw new IoasidException(Errno.EADDRINUSE, $"the mapping at 0x{area.Start:x} is not aligned to 0x{alignment:x}");
            }
        }
    }

    private static IoasAreaInfo Describe(Interval<IoasArea> area) =>
        new(new IovaRange(new Iova(area.Start), new Iova(area.Last)), area.Value.SourceAddress, area.Value.Pages.File is not null, area.Value.Protection);

    private void ThrowIfDestroyed()
    {
        if (IsDestroyed)
        {
            throw new IoasidException(Errno.ENOENT, $"IOAS {Id} has been destroyed");
        }
    }

    private static void Check(Errno errno, string detail)
    {
        if (errno != Errno.None)
        {
            throw new IoasidException(errno, detail);
        }
    }
}
