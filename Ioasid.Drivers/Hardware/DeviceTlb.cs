using System;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Hardware;

/// <summary>One translation a device TLB holds: the PASID it was requested with (null: none) and the translation.</summary>
/// <param name="Pasid">The PASID of the translation request, or <see langword="null"/> for one without a PASID prefix.</param>
/// <param name="Translation">What the IOMMU answered: the page, its output and its permissions.</param>
public readonly record struct DeviceTlbEntry(Pasid? Pasid, Translation Translation)
{
    /// <inheritdoc />
    public override string ToString() => $"{(Pasid is { } p ? $"pasid {p}" : "no pasid")}: {Translation}";
}

/// <summary>
/// The device TLB of a PCIe endpoint with ATS enabled (VT-d "device-TLB", SMMUv3 "ATC"), shared by every hardware
/// model: the endpoint, not the IOMMU, caches the translations its translation requests returned, tagged by the
/// PASID of the request or by "no PASID", and reuses them as translated requests the IOMMU passes through. It drops
/// entries only on an ATS invalidation request (forwarded by the IOMMU from a VT-d device-TLB descriptor or an SMMUv3
/// ATC_INV), never on an IOTLB invalidation — so a driver that forgets the device TLB leaves stale translations.
/// </summary>
/// <remarks>
/// <para>
/// Entries live in the shared <see cref="Iotlb"/> (tag = PASID, or <see cref="NoPasidTag"/>), so lookups and fills
/// allocate nothing. An entry whose permissions do not cover an access counts as a miss: the device asks again.
/// Translations are never marked global (no Global bit in the completions modelled), so a global invalidation request
/// drops exactly what a PASID-selective one does.
/// </para>
/// <para>Not thread-safe, like the hardware model that forwards DMA and invalidations to it.</para>
/// </remarks>
public sealed class DeviceTlb
{
    /// <summary>Entries a device TLB holds by default.</summary>
    public const int DefaultCapacity = 64;

    /// <summary>The tag of translations requested without a PASID (above any 20-bit PASID).</summary>
    public const ulong NoPasidTag = 1UL << 32;

    private readonly Iotlb _entries;

    /// <summary>Creates the empty device TLB of the endpoint <paramref name="rid"/>.</summary>
    /// <param name="rid">The endpoint's requester id.</param>
    /// <param name="capacity">Entries held at most; a fill into a full device TLB drops everything first.</param>
    public DeviceTlb(Rid rid, int capacity = DefaultCapacity)
    {
        Rid = rid;
        _entries = new Iotlb(capacity, [12, 14, 16, 21, 25, 29, 30]);
    }

    /// <summary>The endpoint.</summary>
    public Rid Rid { get; }

    /// <summary>Entries held at most.</summary>
    public int Capacity => _entries.Capacity;

    /// <summary>Entries cached now.</summary>
    public int Count => _entries.Count;

    /// <summary>DMA pages served from the device TLB (sent as translated requests).</summary>
    public long Hits { get; private set; }

    /// <summary>DMA pages the device TLB could not serve (a translation request followed).</summary>
    public long Misses { get; private set; }

    /// <summary>Translations the IOMMU returned and the device cached.</summary>
    public long Fills { get; private set; }

    /// <summary>ATS invalidation requests received.</summary>
    public long InvalidationRequests { get; private set; }

    /// <summary>Entries those invalidation requests dropped.</summary>
    public long EntriesInvalidated { get; private set; }

    /// <summary>The tag of a translation requested with <paramref name="pasid"/> (or without one).</summary>
    public static ulong TagOf(Pasid? pasid) => pasid is { } p ? p.Value : NoPasidTag;

    /// <summary>
    /// Looks up the page of <paramref name="request"/> under its PASID (or none); a hit needs permissions covering the
    /// access. Allocates nothing.
    /// </summary>
    public bool TryLookup(in DmaRequest request, out Translation translation)
    {
        if (_entries.TryLookup(TagOf(request.Pasid), request.Iova.Value, out translation, out _) && translation.Allows(request.Access))
        {
            Hits++;
            return true;
        }

        Misses++;
        translation = default;
        return false;
    }

    /// <summary>Caches the translation the IOMMU returned for <paramref name="request"/>'s translation request.</summary>
    public void Fill(in DmaRequest request, in Translation translation)
    {
        Fills++;
        _entries.Insert(TagOf(request.Pasid), translation, 0);
    }

    /// <summary>
    /// An ATS invalidation request: drops the entries overlapping [<paramref name="start"/>, start + <paramref name="size"/>)
    /// of <paramref name="pasid"/>; a request without a PASID (<see langword="null"/>) drops the range's entries of every
    /// PASID too (PCIe ATS; the SMMUv3 ATC_INV with SSV = 0 and VT-d's non-PASID device-TLB descriptor).
    /// </summary>
    /// <returns>The number of entries dropped.</returns>
    public int Invalidate(Pasid? pasid, Iova start, ulong size)
    {
        InvalidationRequests++;
        int removed = pasid is { } p
            ? _entries.InvalidateRange(p.Value, ulong.MaxValue, start, size)
            : _entries.InvalidateRange(0, 0, start, size);
        EntriesInvalidated += removed;
        return removed;
    }

    /// <summary>Drops everything (the device disabling ATS, or a reset).</summary>
    /// <returns>The number of entries dropped.</returns>
    public int InvalidateAll()
    {
        int removed = _entries.InvalidateAll();
        EntriesInvalidated += removed;
        return removed;
    }

    /// <summary>The cached translations, in no particular order (for dumps and tests; allocates).</summary>
    public DeviceTlbEntry[] Snapshot()
    {
        IotlbEntry[] raw = _entries.Snapshot();
        var entries = new DeviceTlbEntry[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            Pasid? pasid = raw[i].Tag == NoPasidTag ? null : new Pasid((uint)raw[i].Tag);
            entries[i] = new DeviceTlbEntry(pasid, raw[i].Translation);
        }

        return entries;
    }

    /// <summary>
    /// Decodes the ATS-style range of an invalidation request (PCIe ATS, used by VT-d device-TLB descriptors): with
    /// <paramref name="sizeBit"/> clear, the 4 KiB page at <paramref name="address"/>; with it set, the lowest clear
    /// address bit at or above bit 12, at position k, makes the range 2^(k + 1) bytes, aligned. Every bit from 12 up set
    /// means the whole address space.
    /// </summary>
    /// <param name="address">The address field (bits 11:0 are ignored).</param>
    /// <param name="sizeBit">The S bit.</param>
    /// <param name="start">The first byte of the range.</param>
    /// <param name="size">Its size in bytes; <see cref="ulong.MaxValue"/> for the whole address space.</param>
    public static void DecodeAtsRange(ulong address, bool sizeBit, out Iova start, out ulong size)
    {
        ulong page = address & ~0xFFFUL;
        if (!sizeBit)
        {
            start = new Iova(page);
            size = 0x1000;
            return;
        }

        int lowestClear = System.Numerics.BitOperations.TrailingZeroCount(~(address | 0xFFFUL));
        if (lowestClear >= 63)
        {
            start = Iova.Zero;
            size = ulong.MaxValue;
            return;
        }

        size = 1UL << (lowestClear + 1);
        start = new Iova(page & ~(size - 1));
    }

    /// <summary>
    /// The outcome of a translated request the IOMMU let through: the output of <paramref name="iova"/> under
    /// <paramref name="cached"/>, contiguous to the end of its page, or an external abort outside memory.
    /// </summary>
    public static TranslationResult TranslatedRequest(in Translation cached, Iova iova, PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        PhysAddr output = cached.OutputFor(iova);
        ulong length = cached.RemainingFrom(iova);
        return memory.Contains(output, length)
            ? TranslationResult.Translated(output, length, iotlbHit: false) with { DeviceTlbHit = true }
            : TranslationResult.Faulted(FaultReason.ExternalAbort, 0);
    }

    /// <inheritdoc />
    public override string ToString() => $"device TLB of {Rid}: {Count} entries";
}
