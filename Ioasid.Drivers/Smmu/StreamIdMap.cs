using System;
using System.Collections.Generic;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The firmware's RID → StreamID translation for one SMMU, as a device tree <c>iommu-map</c> (or IORT ID mapping)
/// describes it: entries of (RID base, StreamID base, length), StreamID = sid-base + (RID − rid-base) for the first
/// entry whose window holds the RID. Both the driver (at probe) and the platform wiring of the hardware model read it.
/// </summary>
public sealed class StreamIdMap
{
    private readonly List<Entry> _entries = new();

    /// <summary>An identity map of the whole 16-bit RID space of segment 0 (StreamID = bus/device/function).</summary>
    public static StreamIdMap Identity() => new StreamIdMap().Add(0, 0, 0x1_0000);

    /// <summary>The entries, in lookup order.</summary>
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Adds an <c>iommu-map</c> entry: <paramref name="length"/> RIDs from <paramref name="ridBase"/> map to StreamIDs from <paramref name="sidBase"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0.</exception>
    public StreamIdMap Add(uint ridBase, uint sidBase, uint length)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        _entries.Add(new Entry(ridBase, sidBase, length));
        return this;
    }

    /// <summary>The StreamID of <paramref name="rid"/>; false when no entry covers it (the device is not behind this SMMU).</summary>
    public bool TryMap(Rid rid, out uint streamId)
    {
        uint value = rid.Value;
        foreach (Entry entry in _entries)
        {
            if (value - entry.RidBase < entry.Length && value >= entry.RidBase)
            {
                streamId = entry.SidBase + (value - entry.RidBase);
                return true;
            }
        }

        streamId = 0;
        return false;
    }

    /// <summary>The RID that maps to <paramref name="streamId"/> through the first entry covering it; false when none does.</summary>
    public bool TryReverse(uint streamId, out Rid rid)
    {
        foreach (Entry entry in _entries)
        {
            if (streamId >= entry.SidBase && streamId - entry.SidBase < entry.Length)
            {
                rid = new Rid(entry.RidBase + (streamId - entry.SidBase));
                return true;
            }
        }

        rid = default;
        return false;
    }

    /// <summary>One <c>iommu-map</c> entry.</summary>
    /// <param name="RidBase">The first RID of the window.</param>
    /// <param name="SidBase">The StreamID of the first RID.</param>
    /// <param name="Length">How many RIDs.</param>
    public readonly record struct Entry(uint RidBase, uint SidBase, uint Length);
}
