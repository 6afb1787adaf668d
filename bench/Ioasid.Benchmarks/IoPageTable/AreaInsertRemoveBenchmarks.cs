using BenchmarkDotNet.Attributes;
using Ioasid.Core.IoPageTable;

namespace Ioasid.Benchmarks.IoPageTable;

/// <summary>
/// Insert one 4 KiB area into an IOAS that already holds N areas, then remove it (the area-tree half of a MAP
/// followed by an UNMAP). Target: growth at most 2x from 10^3 to 10^6 areas, no GC allocation.
/// </summary>
/// <remarks>
/// <c>SameSpot</c> maps and unmaps at one IOVA, the literal "one area" case (hot path, cost of the tree height);
/// <c>RandomSpot</c> walks random holes so each pair also pays the cache misses of a different path.
/// </remarks>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class AreaInsertRemoveBenchmarks
{
    private const int Spots = 1 << 12;
    private IntervalMap<object> _map = null!;
    private ulong[] _spots = null!;
    private object _payload = null!;
    private ulong _middle;

    /// <summary>Number of 4 KiB areas already in the IOAS.</summary>
    [Params(1_000, 100_000, 1_000_000)]
    public int Areas { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        _map = new IntervalMap<object>();
        _payload = new object();
        int[] order = Enumerable.Range(0, Areas).ToArray();
        rng.Shuffle(order);
        foreach (int i in order)
        {
            ulong iova = 0x1_0000_0000UL + (ulong)i * 0x2000;
            _map.TryInsert(iova, iova + 0xfff, _payload, out _);
        }

        // The holes at +0x1000 after each area are free.
        _spots = new ulong[Spots];
        for (int k = 0; k < Spots; k++)
        {
            _spots[k] = 0x1_0000_1000UL + (ulong)rng.Next(Areas) * 0x2000;
        }

        _middle = 0x1_0000_1000UL + (ulong)(Areas / 2) * 0x2000;
    }

    [Benchmark]
    public bool SameSpot()
    {
        _map.TryInsert(_middle, _middle + 0xfff, _payload, out _);
        return _map.Remove(_middle);
    }

    [Benchmark(OperationsPerInvoke = Spots)]
    public int RandomSpot()
    {
        int n = 0;
        IntervalMap<object> map = _map;
        foreach (ulong iova in _spots)
        {
            map.TryInsert(iova, iova + 0xfff, _payload, out _);
            n += map.Remove(iova) ? 1 : 0;
        }

        return n;
    }
}
