using BenchmarkDotNet.Attributes;
using Ioasid.Benchmarks.Iommufd;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The whole IOAS path into a VT-d second-stage domain: IOAS_MAP of 1 GiB of 4 KiB-backed memory (pinning, then
/// map_pages), and IOAS_UNMAP (unmap_pages, IOTLB invalidation through the queue, table freeing, unpinning). Per page.
/// </summary>
[MemoryDiagnoser]
public class VtdIoasBenchmarks
{
    private const ulong Length = 1UL << 30;
    private const int Pages = (int)(Length / 4096);
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;
    private ulong _va;
    private readonly Iova _iova = new(1UL << 32);

    /// <summary>A bound device attached to the IOAS through a VT-d domain, and 1 GiB of touched user memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var machine = new Machine(4UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = UserProcess.RlimitInfinity;
        _context = new IommufdContext(process);
        var core = new IommuCore();
        var driver = new VtdIommuDriver(core, machine.Memory);
        driver.AddUnit("dmar0");
        core.RegisterDriver(driver.Ops);
        var device = _context.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic")));
        _ioas = _context.AllocIoas();
        device.Attach(_ioas.Id);
        _va = process.Mm.Map(Length);
        var warm = _ioas.Map(_va, Length, IoasMapFlags.ReadWrite);
        _ioas.Unmap(warm, Length);
        IoasWarmup.Run(_ioas, _va, _iova);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>Unmaps after each map iteration.</summary>
    [IterationCleanup(Target = nameof(Map1GiBPerPage))]
    public void AfterMap() => _ioas.Unmap(_iova, Length);

    /// <summary>Maps before each unmap iteration.</summary>
    [IterationSetup(Target = nameof(Unmap1GiBPerPage))]
    public void BeforeUnmap() => _ioas.Map(_va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, _iova);

    /// <summary>IOAS_MAP of 1 GiB incl. pinning. Per 4 KiB page.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    [InvocationCount(1, 1)]
    public Iova Map1GiBPerPage() => _ioas.Map(_va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, _iova);

    /// <summary>IOAS_UNMAP of 1 GiB incl. invalidation and unpinning. Per 4 KiB page.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    [InvocationCount(1, 1)]
    public ulong Unmap1GiBPerPage() => _ioas.Unmap(_iova, Length);
}
