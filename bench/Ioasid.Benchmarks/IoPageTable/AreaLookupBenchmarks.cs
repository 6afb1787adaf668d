using BenchmarkDotNet.Attributes;
using Ioasid.Core.IoPageTable;

namespace Ioasid.Benchmarks.IoPageTable;

/// <summary>
/// Area lookup by IOVA (the kernel's <c>iopt_area_iter_first(iova, iova)</c>) at random addresses, so each lookup
/// pays the cache misses of a real workload rather than hitting one hot path. Targets: at most 60 ns at 10^3 areas,
/// at most 260 ns at 10^6.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class AreaLookupBenchmarks
{
    private const int Probes = 1 << 16;
    private IntervalMap<object> _map = null!;
    private ulong[] _probes = null!;

    /// <summary>Number of 4 KiB areas in the IOAS.</summary>
    [Params(1_000, 1_000_000)]
    public int Areas { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _map = new IntervalMap<object>();
        var payload = new object();

        // Areas at an 8 KiB stride (4 KiB mapped, 4 KiB hole), inserted in shuffled order as a mix of fixed and
        // automatic maps would be.
        int[] order = Enumerable.Range(0, Areas).ToArray();
        rng.Shuffle(order);
        foreach (int i in order)
        {
            ulong iova = 0x1_0000_0000UL + (ulong)i * 0x2000;
            _map.TryInsert(iova, iova + 0xfff, payload, out _);
        }

        _probes = new ulong[Probes];
        for (int k = 0; k < Probes; k++)
        {
            _probes[k] = 0x1_0000_0000UL + (ulong)rng.Next(Areas) * 0x2000 + (ulong)rng.Next(0x1000);
        }
    }

    [Benchmark(OperationsPerInvoke = Probes)]
    public int Lookup()
    {
        int hits = 0;
        IntervalMap<object> map = _map;
        ulong[] probes = _probes;
        for (int k = 0; k < probes.Length; k++)
        {
            hits += map.TryFind(probes[k], out _) ? 1 : 0;
        }

        return hits;
    }
}
