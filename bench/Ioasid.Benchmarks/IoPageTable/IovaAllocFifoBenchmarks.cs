using BenchmarkDotNet.Attributes;
using Ioasid.Core.IoPageTable;

namespace Ioasid.Benchmarks.IoPageTable;

/// <summary>
/// Automatic IOVA allocation with N mappings outstanding, freed in FIFO order: each operation unmaps the oldest area
/// and auto-maps a new one (allocate + insert area + remove area). Linux 6.1's linear hole walk degrades to ~32 us
/// per allocation at 65,536 outstanding; the target here is at most 200 ns per allocate+free, growing at most 2x
/// from 512 to 65,536.
/// </summary>
/// <remarks>
/// The IOAS looks like one with a domain attached: an aperture reservation above 2^48 and the x86 MSI window
/// reserved, so the allocator also walks reservation holes. <c>Mixed</c> uses lengths of 4-64 KiB so FIFO frees
/// leave holes of varied sizes and alignments (fragmentation), the case where a linear walk is slowest.
/// </remarks>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class IovaAllocFifoBenchmarks
{
    private const int Ops = 1 << 12;
    private IovaSpace<int> _space = null!;
    private ulong[] _ring = null!;
    private int _head;
    private ulong _source;
    private ulong[] _lengths = null!;
    private int _lengthIndex;

    /// <summary>Mappings outstanding.</summary>
    [Params(512, 4_096, 65_536)]
    public int Outstanding { get; set; }

    /// <summary>Fixed 4 KiB maps or mixed 4-64 KiB maps.</summary>
    [Params(false, true)]
    public bool Mixed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _space = new IovaSpace<int>();
        var domain = new object();
        var device = new object();
        _space.ReserveIova(1UL << 48, ulong.MaxValue, domain);
        _space.ReserveIova(0xfee0_0000, 0xfeef_ffff, device);

        _lengths = new ulong[1024];
        for (int i = 0; i < _lengths.Length; i++)
        {
            _lengths[i] = Mixed ? (ulong)rng.Next(1, 17) * 0x1000 : 0x1000;
        }

        _source = 0x7f00_0000_0000;
        _ring = new ulong[Outstanding];
        for (int i = 0; i < Outstanding; i++)
        {
            _ring[i] = Map();
        }

        _head = 0;

        // Run the FIFO long enough to reach its steady state (holes spread through the whole range) before timing.
        for (int i = 0; i < 4 * Outstanding; i++)
        {
            Step();
        }
    }

    private ulong Map()
    {
        ulong length = _lengths[_lengthIndex++ & (_lengths.Length - 1)];
        _source += 0x1000;
        if (_space.AllocateIova(_source, length, AutoIovaAlignment.HugePageSize, out ulong iova) != Errno.None)
        {
            throw new InvalidOperationException("benchmark IOAS ran out of IOVA");
        }

        _space.Areas.TryInsert(iova, iova + length - 1, 0, out _);
        return iova;
    }

    private void Step()
    {
        _space.Areas.Remove(_ring[_head]);
        _ring[_head] = Map();
        _head = _head + 1 == _ring.Length ? 0 : _head + 1;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void AllocateFreeFifo()
    {
        for (int i = 0; i < Ops; i++)
        {
            Step();
        }
    }
}
