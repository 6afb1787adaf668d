using BenchmarkDotNet.Attributes;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Benchmarks.Iommufd;

/// <summary>
/// IOAS_MAP / IOAS_UNMAP through the public API with many existing areas: the cost must grow at most 2× from
/// 10^3 to 10^6 areas (issue 3), and a 1 GiB map must cost the same as a 4 KiB one (one area, nothing per page).
/// </summary>
[MemoryDiagnoser]
public class IoasMapUnmapBenchmarks
{
    private const ulong Va = 0x7f00_0000_0000;
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;
    private ulong _probe;

    /// <summary>Existing 4 KiB areas, spaced 8 KiB apart.</summary>
    [Params(1_000, 100_000, 1_000_000)]
    public int Areas { get; set; }

    /// <summary>Fills the IOAS.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _context = new IommufdContext(new Machine().CreateProcess());
        _ioas = _context.AllocIoas();
        for (var i = 0; i < Areas; i++)
        {
            _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(0x10000 + ((ulong)i * 0x2000)));
        }

        _probe = 0x10000 + ((ulong)(Areas / 2) * 0x2000) + 0x1000; // a hole in the middle
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>Map one 4 KiB area at a fixed IOVA in a hole, then unmap it.</summary>
    [Benchmark]
    public ulong MapUnmap4K()
    {
        _ioas.Map(Va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(_probe));
        return _ioas.Unmap(new Iova(_probe), 0x1000);
    }

    /// <summary>Find the area holding an IOVA.</summary>
    [Benchmark]
    public bool FindArea() => _ioas.FindArea(new Iova(_probe - 0x1000)).HasValue;
}

/// <summary>Automatic IOVA allocation with N outstanding mappings, freed in FIFO order (issue 3: ≤ 200 ns, ≤ 2× growth).</summary>
[MemoryDiagnoser]
public class IoasAutoIovaBenchmarks
{
    private const ulong Va = 0x7f00_0000_0000;
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;
    private Queue<Iova> _outstanding = null!;

    /// <summary>Mappings outstanding.</summary>
    [Params(512, 4_096, 65_536)]
    public int Outstanding { get; set; }

    /// <summary>Fills the IOAS with automatic mappings.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _context = new IommufdContext(new Machine().CreateProcess());
        _ioas = _context.AllocIoas();
        _outstanding = new Queue<Iova>(Outstanding + 1);
        for (var i = 0; i < Outstanding; i++)
        {
            _outstanding.Enqueue(_ioas.Map(Va, 0x1000, IoasMapFlags.ReadWrite));
        }
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>Allocate one 4 KiB IOVA automatically and free the oldest.</summary>
    [Benchmark]
    public ulong AllocateAndFreeOldest()
    {
        _outstanding.Enqueue(_ioas.Map(Va, 0x1000, IoasMapFlags.ReadWrite));
        return _ioas.Unmap(_outstanding.Dequeue(), 0x1000);
    }
}

/// <summary>Map+unmap of 4 KiB versus 1 GiB in an IOAS with no domain: the same cost, since nothing is per page.</summary>
[MemoryDiagnoser]
public class IoasLargeMapBenchmarks
{
    private const ulong Va = 0x7f00_0000_0000;
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;

    /// <summary>Mapping length.</summary>
    [Params(4096UL, 1UL << 30)]
    public ulong Length { get; set; }

    /// <summary>An empty IOAS.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _context = new IommufdContext(new Machine().CreateProcess());
        _ioas = _context.AllocIoas();
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>Map at a fixed IOVA and unmap.</summary>
    [Benchmark]
    public ulong MapUnmap()
    {
        _ioas.Map(Va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(1UL << 32));
        return _ioas.Unmap(new Iova(1UL << 32), Length);
    }
}
