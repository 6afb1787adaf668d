using System;
using System.Collections.Generic;

namespace Ioasid.Drivers.Hardware;

/// <summary>
/// A fresh walk of a hardware model's tables in memory, bypassing every cache: what the stale-translation checker
/// compares a cached translation with. Implement it as a small struct holding the walk's context (root, format,
/// stage), so a check allocates nothing.
/// </summary>
public interface ITranslationWalker
{
    /// <summary>Walks the tables for <paramref name="iova"/>; false when the walk finds no valid translation.</summary>
    bool TryWalk(Iova iova, out Translation translation);
}

/// <summary>
/// A cached translation that no longer matches the tables: the driver changed or cleared entries and did not
/// invalidate the IOTLB before the device used the address again.
/// </summary>
/// <param name="Rid">The requester whose DMA hit the stale entry.</param>
/// <param name="Pasid">Its PASID, or <see langword="null"/> for a request without one.</param>
/// <param name="Iova">The address the DMA used.</param>
/// <param name="Access">What the DMA did.</param>
/// <param name="Tag">The IOTLB tag of the entry.</param>
/// <param name="Cached">What the IOTLB held (and the hardware used).</param>
/// <param name="Current">What a walk of the tables gives now; <see langword="null"/> when nothing is mapped.</param>
public sealed record StaleTranslation(Rid Rid, Pasid? Pasid, Iova Iova, DmaAccess Access, ulong Tag, Translation Cached, Translation? Current)
{
    /// <summary>
    /// Whether the stale entry was in the requester's device TLB (ATS) rather than the IOMMU's IOTLB: the driver
    /// invalidated the IOTLB but not the device TLB. <see cref="Tag"/> is then the <see cref="DeviceTlb.TagOf"/> tag.
    /// </summary>
    public bool InDeviceTlb { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"stale {(InDeviceTlb ? "device-TLB" : "IOTLB")} hit: {Access} {Rid}{(Pasid is { } p ? $" pasid {p}" : string.Empty)} at {Iova} tag 0x{Tag:X}: " +
        $"cached {Cached.OutputFor(Iova)} ({Cached.Permissions}), tables {(Current is { } c ? $"{c.OutputFor(Iova)} ({c.Permissions})" : "not mapped")}";
}

/// <summary>
/// The stale-translation checker: an opt-in mode of a hardware model in which every IOTLB hit (and every device-TLB
/// hit of an ATS endpoint, <see cref="CheckDeviceTlbHit"/>) is compared with a fresh
/// walk (<see cref="ITranslationWalker"/>). A hit whose output address for the accessed IOVA or whose permissions
/// differ from the tables is reported as a <see cref="StaleTranslation"/>: the mark of a driver that changed or
/// cleared PTEs without invalidating. The hardware still uses the cached entry, as real hardware would, so the stale
/// DMA stays observable. Shared by every hardware model: each supplies only its walker.
/// </summary>
/// <remarks>A check allocates nothing unless it finds a stale entry. Not thread-safe, like the model using it.</remarks>
public sealed class StaleTranslationChecker
{
    private readonly List<StaleTranslation> _reports = new();

    /// <summary>Creates a disabled checker that keeps at most <paramref name="capacity"/> reports.</summary>
    public StaleTranslationChecker(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>Whether hits are checked. Off by default: a check costs a full walk per hit.</summary>
    public bool Enabled { get; set; }

    /// <summary>Reports kept at most; later ones are counted in <see cref="StaleHits"/> but not kept.</summary>
    public int Capacity { get; }

    /// <summary>The kept reports, oldest first.</summary>
    public IReadOnlyList<StaleTranslation> Reports => _reports;

    /// <summary>Hits checked since creation.</summary>
    public long Checks { get; private set; }

    /// <summary>Stale hits found since creation, kept or not.</summary>
    public long StaleHits { get; private set; }

    /// <summary>Called with each stale hit as it is found (e.g. to fail a test at once); may be null.</summary>
    public Action<StaleTranslation>? OnStale { get; set; }

    /// <summary>
    /// Compares the cached translation a DMA hit with a fresh walk; on a mismatch records a report. Call it on every
    /// IOTLB hit when <see cref="Enabled"/> (the check does not look at the flag itself).
    /// </summary>
    /// <param name="request">The DMA; its <see cref="DmaRequest.Iova"/> is the address compared.</param>
    /// <param name="tag">The IOTLB tag the hit was under.</param>
    /// <param name="cached">The cached translation.</param>
    /// <param name="walker">The walk of the tables the entry came from.</param>
    /// <returns>Whether the cached translation still matches the tables.</returns>
    public bool Check<TWalker>(in DmaRequest request, ulong tag, in Translation cached, ref TWalker walker)
        where TWalker : struct, ITranslationWalker =>
        CheckHit(request, tag, cached, ref walker, inDeviceTlb: false);

    /// <summary>
    /// Like <see cref="Check"/> for a hit in the requester's device TLB (an ATS translated request): a mismatch is
    /// reported with <see cref="StaleTranslation.InDeviceTlb"/> set.
    /// </summary>
    /// <param name="request">The DMA; its <see cref="DmaRequest.Iova"/> is the address compared.</param>
    /// <param name="cached">The translation the device TLB held.</param>
    /// <param name="walker">The walk of the tables the IOMMU would translate the request with now.</param>
    /// <returns>Whether the cached translation still matches the tables.</returns>
    public bool CheckDeviceTlbHit<TWalker>(in DmaRequest request, in Translation cached, ref TWalker walker)
        where TWalker : struct, ITranslationWalker =>
        CheckHit(request, DeviceTlb.TagOf(request.Pasid), cached, ref walker, inDeviceTlb: true);

    private bool CheckHit<TWalker>(in DmaRequest request, ulong tag, in Translation cached, ref TWalker walker, bool inDeviceTlb)
        where TWalker : struct, ITranslationWalker
    {
        Checks++;
        Iova iova = request.Iova;
        bool mapped = walker.TryWalk(iova, out Translation current);
        if (mapped && current.Permissions == cached.Permissions && current.OutputFor(iova) == cached.OutputFor(iova))
        {
            return true;
        }

        Report(new StaleTranslation(request.Rid, request.Pasid, iova, request.Access, tag, cached, mapped ? current : null) { InDeviceTlb = inDeviceTlb });
        return false;
    }

    /// <summary>Forgets the kept reports (the counters stay).</summary>
    public void Clear() => _reports.Clear();

    private void Report(StaleTranslation report)
    {
        StaleHits++;
        if (_reports.Count < Capacity)
        {
            _reports.Add(report);
        }

        OnStale?.Invoke(report);
    }
}
