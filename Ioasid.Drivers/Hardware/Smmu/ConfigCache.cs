using System.Collections.Generic;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// The configuration cache (drivers.md §4.2): decoded STEs by StreamID and decoded CDs by (StreamID, CD index),
/// filled on first use and used as they are until a CFGI command drops them — so a driver that rewrites an STE or CD
/// without CFGI keeps getting the old configuration, as on hardware. Illegal configurations are cached too (Linux
/// always issues CFGI after writing, even from V = 0).
/// </summary>
/// <remarks>
/// CFGI_STE drops the STE and, per the reading of the spec in drivers.md §3.7, every CD cached through it;
/// CFGI_CD drops one CD; CFGI_CD_ALL every CD of the stream.
/// </remarks>
public sealed class ConfigCache
{
    private readonly Dictionary<uint, StreamConfig> _streams = new();
    private readonly Dictionary<ulong, ContextConfig> _contexts = new();

    /// <summary>Bumped by every invalidation, so derived fast-path state knows to look again.</summary>
    public long Generation { get; private set; }

    /// <summary>Cached STEs.</summary>
    public IReadOnlyCollection<StreamConfig> Streams => _streams.Values;

    /// <summary>Cached CDs.</summary>
    public IReadOnlyCollection<ContextConfig> Contexts => _contexts.Values;

    /// <summary>Lookups that found a cached entry.</summary>
    public long Hits { get; private set; }

    /// <summary>Lookups that had to fetch from memory.</summary>
    public long Misses { get; private set; }

    /// <summary>The cached STE of <paramref name="streamId"/>.</summary>
    public bool TryGetStream(uint streamId, out StreamConfig config)
    {
        bool found = _streams.TryGetValue(streamId, out config!);
        Count(found);
        return found;
    }

    /// <summary>The cached CD <paramref name="index"/> of <paramref name="streamId"/>.</summary>
    public bool TryGetContext(uint streamId, uint index, out ContextConfig config)
    {
        bool found = _contexts.TryGetValue(Key(streamId, index), out config!);
        Count(found);
        return found;
    }

    internal void Add(StreamConfig config) => _streams[config.StreamId] = config;

    internal void Add(ContextConfig config) => _contexts[Key(config.StreamId, config.Index)] = config;

    /// <summary>CFGI_STE: drops the STE of <paramref name="streamId"/> and its CDs.</summary>
    public void InvalidateStream(uint streamId)
    {
        Generation++;
        _streams.Remove(streamId);
        InvalidateContexts(streamId);
    }

    /// <summary>CFGI_STE_RANGE: drops STEs (and their CDs) of StreamIDs in [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>).</summary>
    public void InvalidateStreams(uint first, ulong count)
    {
        Generation++;
        foreach (uint sid in new List<uint>(_streams.Keys))
        {
            if (sid >= first && sid - first < count)
            {
                _streams.Remove(sid);
            }
        }

        foreach (ulong key in new List<ulong>(_contexts.Keys))
        {
            uint sid = (uint)(key >> 32);
            if (sid >= first && sid - first < count)
            {
                _contexts.Remove(key);
            }
        }
    }

    /// <summary>CFGI_CD: drops CD <paramref name="index"/> of <paramref name="streamId"/>.</summary>
    public void InvalidateContext(uint streamId, uint index)
    {
        Generation++;
        _contexts.Remove(Key(streamId, index));
    }

    /// <summary>CFGI_CD_ALL: drops every CD of <paramref name="streamId"/>.</summary>
    public void InvalidateContexts(uint streamId)
    {
        Generation++;
        if (_contexts.Count == 0)
        {
            return;
        }

        foreach (ulong key in new List<ulong>(_contexts.Keys))
        {
            if ((uint)(key >> 32) == streamId)
            {
                _contexts.Remove(key);
            }
        }
    }

    /// <summary>Drops everything.</summary>
    public void InvalidateAll()
    {
        Generation++;
        _streams.Clear();
        _contexts.Clear();
    }

    private static ulong Key(uint streamId, uint index) => ((ulong)streamId << 32) | index;

    private void Count(bool hit)
    {
        if (hit)
        {
            Hits++;
        }
        else
        {
            Misses++;
        }
    }
}
