using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
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
    private readonly List<(IommuDomain Domain, IommuCore Core)> _domains = new();
    private readonly List<HwptPaging> _hwpts = new();
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

    /// <summary>Whether <c>[first, last]</c> is covered by mappings with no hole (areas may abut). Call under the context lock.</summary>
    internal bool IsFullyMapped(ulong first, ulong last)
    {
        var next = first;
        while (_space.Areas.TryFind(next, out var area))
        {
            if (area.Last >= last)
            {
                return true;
            }

            next = area.Last + 1;
        }

        return false;
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
    [MustUseResult(UnlessArgument = nameof(iova))]
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
    [MustUseResult(UnlessArgument = nameof(iova))]
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
    [MustUseResult(UnlessArgument = nameof(iova))]
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
    /// IOMMU_IOAS_IOVA_RANGES into a caller's array, as the ioctl does it: up to <c>destination.Length</c> ranges are
    /// written, <paramref name="total"/> is set to how many there are and <paramref name="alignment"/> to the IOAS
    /// alignment, and the call fails with EMSGSIZE when the array was too small — after filling what fits.
    /// </summary>
    public void GetIovaRanges(Span<IovaRange> destination, out int total, out ulong alignment)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            total = 0;
            foreach (var hole in _space.EnumerateIovaRanges())
            {
                if (total < destination.Length)
                {
                    destination[total] = new IovaRange(new Iova(hole.Start), new Iova(hole.Last));
                }

                total++;
            }

            alignment = _space.IovaAlignment;
            if (total > destination.Length)
            {
                throw new IoasidException(Errno.EMSGSIZE, $"{total} ranges do not fit in {destination.Length}");
            }
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

    /// <summary>The number of domains (paging HWPTs) that mirror this IOAS.</summary>
    internal int DomainCount => _domains.Count;


    /// <summary>
    /// <c>iopt_table_add_domain</c>: makes <paramref name="domain"/> mirror this IOAS. Its smallest page may not be
    /// larger than 4 KiB (EINVAL); the alignment it needs must fit every mapping (EADDRINUSE); IOVA outside its
    /// aperture is reserved for it (EADDRINUSE when a mapping or an allowed range is there); then every existing
    /// mapping is filled in, pinning pages that were not pinned yet (EFAULT, ENOMEM). On failure the IOAS and the
    /// domain are as before.
    /// </summary>
    internal void AddDomain(IommuDomain domain, IommuCore core)
    {
        if (domain.MinPageSize == 0 || domain.MinPageSize > AddressMath.PageSize)
        {
            throw new IoasidException(Errno.EINVAL, $"the domain's smallest page 0x{domain.MinPageSize:x} is larger than the CPU page");
        }

        var alignment = Math.Max(_space.IovaAlignment, domain.MinPageSize);
        CheckAreasAligned(alignment);
        var geometry = domain.Geometry;
        try
        {
            if (geometry.ApertureStart.Value > 0)
            {
                Reserve(0, geometry.ApertureStart.Value - 1, domain);
            }

            if (geometry.ApertureEnd.Value < ulong.MaxValue)
            {
                Reserve(geometry.ApertureEnd.Value + 1, ulong.MaxValue, domain);
            }

            // The first domain pins every mapping's pages; later ones reuse the pins (the kernel reads the PFNs back
            // from its "storage domain"; here the pages keep them).
            var firstDomain = _domains.Count == 0;
            var filled = new List<Interval<IoasArea>>();
            try
            {
                foreach (var area in _space.Areas)
                {
                    if (firstDomain)
                    {
                        PinArea(area);
                    }

                    try
                    {
                        FillArea(area, domain, core);
                    }
                    catch
                    {
                        if (firstDomain)
                        {
                            UnpinArea(area);
                        }

                        throw;
                    }

                    filled.Add(area);
                }
            }
            catch
            {
                foreach (var area in filled)
                {
                    UnfillArea(area, domain, core);
                    if (firstDomain)
                    {
                        UnpinArea(area);
                    }
                }

                throw;
            }
        }
        catch
        {
            Unreserve(domain);
            throw;
        }

        _domains.Add((domain, core));
        RecomputeAlignment();
    }

    /// <summary>
    /// <c>iopt_table_remove_domain</c>: the domain stops mirroring the IOAS. Its mappings are removed; when it was
    /// the last domain, pages no access holds are unpinned; its aperture reservations go; the alignment may drop.
    /// </summary>
    internal void RemoveDomain(IommuDomain domain)
    {
        var index = _domains.FindIndex(d => ReferenceEquals(d.Domain, domain));
        if (index < 0)
        {
            return;
        }

        var core = _domains[index].Core;
        _domains.RemoveAt(index);
        var lastDomain = _domains.Count == 0;
        foreach (var area in _space.Areas)
        {
            UnfillArea(area, domain, core);
            if (lastDomain)
            {
                UnpinArea(area);
            }
        }

        Unreserve(domain);
        RecomputeAlignment();
    }

    /// <summary>
    /// Reserves <c>[start, last]</c> for <paramref name="owner"/> (a domain's aperture, a device's reserved
    /// region). EADDRINUSE when it intersects a mapping or an allowed range.
    /// </summary>
    internal void Reserve(ulong start, ulong last, object owner) =>
        Check(_space.ReserveIova(start, last, owner), $"[0x{start:x}, 0x{last:x}] intersects a mapping or an allowed range");

    /// <summary>The paging HWPTs of this IOAS, oldest first (the kernel's <c>hwpt_list</c>).</summary>
    internal IReadOnlyList<HwptPaging> Hwpts => _hwpts;

    internal void AddHwpt(HwptPaging hwpt) => _hwpts.Add(hwpt);

    internal void RemoveHwpt(HwptPaging hwpt) => _hwpts.Remove(hwpt);

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

    /// <summary>Drops every reserved range of <paramref name="owner"/>.</summary>
    internal int Unreserve(object owner) => _space.RemoveReservedIova(owner);

    private protected override void Release()
    {
        // Destroying an IOAS with mappings is allowed: it unmaps everything (spec §4.7).
        UnmapRange(0, ulong.MaxValue, emptyIsError: false);
    }

    private static void CheckMapFlagsAndSizes(IoasMapFlags flags, ulong iova, ulong length) =>
        CheckFlagsAndSizes(flags, iova, length, sourceIova: 0);

    private static void CheckCopyArguments(IoasMapFlags flags, ulong length, ulong sourceIova, ulong iova)
    {
        CheckFlagsAndSizes(flags, iova, length, sourceIova);
        if (length == 0)
        {
            throw new IoasidException(Errno.EINVAL, "length is 0");
        }
    }

    // The first three checks of MAP and COPY, in the kernel's order: unknown flags, ULONG_MAX values, no R/W.
    private static void CheckFlagsAndSizes(IoasMapFlags flags, ulong iova, ulong length, ulong sourceIova)
    {
        if ((flags & ~(IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite)) != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"unknown flags 0x{(uint)flags:x}");
        }

        if (iova == ulong.MaxValue || length == ulong.MaxValue || sourceIova == ulong.MaxValue)
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova, length and src_iova must be below ULONG_MAX");
        }

        if ((flags & IoasMapFlags.ReadWrite) == 0)
        {
            throw new IoasidException(Errno.EINVAL, "a mapping must be READABLE, WRITEABLE or both");
        }
    }

    /// <summary>The checks every new mapping shares (MAP, MAP_FILE), then the IOVA choice and the insert.</summary>
    private Iova MapPages(IoptPages pages, ulong pagesOffset, ulong length, IoasMapFlags flags, ulong requestedIova)
    {
        ThrowIfDestroyed();
        var iova = ChooseIova(pages.SourceAddress + pagesOffset, length, flags, requestedIova);
        InsertAndFill(iova, length, new IoasArea(pages, pagesOffset, flags & IoasMapFlags.ReadWrite));
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
    internal List<(IoasArea Area, ulong Offset, ulong Length)> CollectContiguous(ulong iova, ulong length)
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
        var inserted = new List<(ulong Iova, ulong Length)>();
        try
        {
            foreach (var segment in segments)
            {
                segment.Area.Pages.AddRef();
                InsertAndFill(at, segment.Length, new IoasArea(segment.Area.Pages, segment.Area.PagesOffset + segment.Offset, protection));
                inserted.Add((at, segment.Length));
                at += segment.Length;
            }
        }
        catch
        {
            foreach (var (start, len) in inserted)
            {
                UnmapRange(start, start + (len - 1), emptyIsError: false);
            }

            throw;
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

            RemoveArea(firstArea);
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

            RemoveArea(area);
            unmapped += area.Last - area.Start + 1;
        }

        return unmapped;
    }

    private ulong ComputeAlignment(bool largePagesDisabled)
    {
        var alignment = largePagesDisabled ? AddressMath.PageSize : 1UL;
        foreach (var (domain, _) in _domains)
        {
            alignment = Math.Max(alignment, domain.MinPageSize);
        }

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

    /// <summary>Inserts an area and fills it into every domain; if filling fails the area is gone again.</summary>
    private void InsertAndFill(ulong iova, ulong length, IoasArea area)
    {
        Insert(iova, length, area);
        if (_domains.Count == 0)
        {
            return;
        }

        _space.Areas.TryFind(iova, out var interval);
        var filled = 0;
        try
        {
            PinArea(interval);
            try
            {
                foreach (var (domain, core) in _domains)
                {
                    FillArea(interval, domain, core);
                    filled++;
                }
            }
            catch
            {
                for (var i = filled - 1; i >= 0; i--)
                {
                    UnfillArea(interval, _domains[i].Domain, _domains[i].Core);
                }

                UnpinArea(interval);
                throw;
            }
        }
        catch
        {
            _space.Areas.Remove(iova);
            area.Pages.Release();
            throw;
        }
    }

    private void RemoveArea(Interval<IoasArea> area)
    {
        if (_domains.Count > 0)
        {
            foreach (var (domain, core) in _domains)
            {
                UnfillArea(area, domain, core);
            }

            UnpinArea(area);
        }

        _space.Areas.Remove(area.Start);
        area.Value.Pages.Release();
    }

    /// <summary>The page indices of the memory behind an area.</summary>
    private static (ulong First, ulong Last) PageSpan(Interval<IoasArea> interval)
    {
        var area = interval.Value;
        return (area.Pages.PageIndexOf(area.PagesOffset), area.Pages.PageIndexOf(area.PagesOffset + (interval.Last - interval.Start)));
    }

    /// <summary>The domains hold one user on every page of an area (pinned once however many domains mirror it).</summary>
    private static void PinArea(Interval<IoasArea> interval)
    {
        var (first, last) = PageSpan(interval);
        var errno = interval.Value.Pages.AddUsers(first, last);
        if (errno != Errno.None)
        {
            throw new IoasidException(errno, errno == Errno.ENOMEM ? "the memlock limit would be exceeded" : "the memory behind the mapping cannot be pinned");
        }
    }

    private static void UnpinArea(Interval<IoasArea> interval)
    {
        var (first, last) = PageSpan(interval);
        interval.Value.Pages.RemoveUsers(first, last);
    }

    /// <summary>Maps one area into one domain in physically contiguous runs; its pages are already pinned.</summary>
    private void FillArea(Interval<IoasArea> interval, IommuDomain domain, IommuCore core)
    {
        var area = interval.Value;
        var pages = area.Pages;
        var length = interval.Last - interval.Start + 1;
        var firstByte = area.PagesOffset;
        var (firstPage, lastPage) = PageSpan(interval);

        var prot = IommuProt.Cache
            | (area.Protection.HasFlag(IoasMapFlags.Readable) ? IommuProt.Read : 0)
            | (area.Protection.HasFlag(IoasMapFlags.Writeable) ? IommuProt.Write : 0);
        var sizes = _largePagesDisabled ? domain.MinPageSize | AddressMath.PageSize : ulong.MaxValue;
        var pageOffset = (pages.SourceAddress + firstByte) & (AddressMath.PageSize - 1);
        ulong done = 0;
        try
        {
            var page = firstPage;
            while (done < length)
            {
                // Grow the run while the next page's frame follows the previous one.
                var runPa = (pages.Pfn(page) << AddressMath.PageShift) + (page == firstPage ? pageOffset : 0);
                while (page < lastPage && pages.Pfn(page + 1) == pages.Pfn(page) + 1)
                {
                    page++;
                }

                var runEnd = Math.Min(length, ((page - firstPage + 1) << AddressMath.PageShift) - pageOffset);
                var runLength = runEnd - done;
                var errno = core.Map(domain, new Iova(interval.Start + done), new PhysAddr(runPa), runLength, prot, sizes);
                if (errno != Errno.None)
                {
                    throw new IoasidException(errno, $"mapping into {domain} failed");
                }

                done = runEnd;
                page++;
            }
        }
        catch
        {
            if (done > 0)
            {
                core.Unmap(domain, new Iova(interval.Start), done);
            }

            throw;
        }
    }

    private static void UnfillArea(Interval<IoasArea> interval, IommuDomain domain, IommuCore core) =>
        core.Unmap(domain, new Iova(interval.Start), interval.Last - interval.Start + 1);

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
