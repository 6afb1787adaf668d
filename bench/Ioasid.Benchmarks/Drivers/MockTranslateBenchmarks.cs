using BenchmarkDotNet.Attributes;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// DMA translation by the mock hardware model for a device attached through iommufd: an IOTLB hit, an IOTLB miss
/// (a full 4-level walk in simulated memory, then the insert), and the bare walk. Reported per translation.
/// </summary>
[MemoryDiagnoser]
public class MockTranslateBenchmarks
{
    // More distinct pages than the IOTLB holds (1024), visited in order: every lookup misses.
    private const int MissPages = 4096;
    private const ulong Stride = 0x1000 * 65; // about 8 pages per level-1 table: ~520 tables, within the mock aperture
    private IommufdContext _context = null!;
    private MockIommuDriver _driver = null!;
    private PhysAddr _root;
    private Rid _rid;
    private Iova _base;

    /// <summary>A device attached to an IOAS with 4096 scattered 4 KiB pages mapped.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var machine = new Machine(8UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = UserProcess.RlimitInfinity;
        _context = new IommufdContext(process);
        var core = new IommuCore();
        _driver = new MockIommuDriver(core, machine.Memory);
        core.RegisterDriver(_driver.Ops);
        var device = _context.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic")));
        _rid = device.Device.Rid;
        var ioas = _context.AllocIoas();
        var hwpt = device.Attach(ioas.Id);
        _root = ((MockPagingDomain)hwpt.Domain).Root;
        var va = process.Mm.Map(0x1000);
        _base = new Iova(MockIommuDriver.ApertureStart);
        for (var i = 0UL; i < MissPages; i++)
        {
            ioas.Map(va, 0x1000, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, _base + (i * Stride));
        }
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>The same page again and again: every translation after the first hits the IOTLB.</summary>
    [Benchmark]
    public ulong TranslateIotlbHit() =>
        _driver.Hardware.Translate(new DmaRequest(_rid, null, _base, 8, DmaAccess.Read)).Address.Value;

    /// <summary>4096 distinct pages in order through a 1024-entry IOTLB: each misses, walks and inserts.</summary>
    [Benchmark(OperationsPerInvoke = MissPages)]
    public ulong TranslateIotlbMiss()
    {
        var hardware = _driver.Hardware;
        ulong sum = 0;
        for (var i = 0UL; i < MissPages; i++)
        {
            sum += hardware.Translate(new DmaRequest(_rid, null, _base + (i * Stride), 8, DmaAccess.Read)).Address.Value;
        }

        return sum;
    }

    /// <summary>The 4-level walk alone, bypassing the IOTLB.</summary>
    [Benchmark(OperationsPerInvoke = MissPages)]
    public ulong Walk()
    {
        var hardware = _driver.Hardware;
        ulong sum = 0;
        for (var i = 0UL; i < MissPages; i++)
        {
            hardware.Walk(_root, _base + (i * Stride), out var translation, out _);
            sum += translation.OutputBase.Value;
        }

        return sum;
    }
}
