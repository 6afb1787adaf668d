using BenchmarkDotNet.Attributes;
using Ioasid.Benchmarks.Iommufd;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The whole IOAS path into an SMMUv3 stage-1 domain (4 KiB granule): IOAS_MAP of 1 GiB of 4 KiB-backed memory (pin,
/// fill the io-pgtable) and IOAS_UNMAP (clear, TLBI range + CMD_SYNC, unpin), each reported per 4 KiB page.
/// </summary>
[MemoryDiagnoser]
public class SmmuIoasBenchmarks
{
    private const ulong Length = 1UL << 30;
    private const ulong Pages = Length / 4096;
    private const ulong IovaBase = 0x1_0000_0000;
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;
    private ulong _va;

    /// <summary>A bound device attached to the IOAS and 1 GiB of touched user memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var machine = new Machine(4UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = UserProcess.RlimitInfinity;
        _context = new IommufdContext(process);
        var core = new IommuCore();
        var driver = new SmmuV3Driver(core, machine.Memory);
        core.RegisterDriver(driver.Ops);
        var device = _context.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic")));
        _ioas = _context.AllocIoas();
        device.Attach(_ioas.Id);
        _va = process.Mm.Map(Length);
        var warm = _ioas.Map(_va, Length, IoasMapFlags.ReadWrite);
        _ioas.Unmap(warm, Length);
        IoasWarmup.Run(_ioas, _va, new Iova(IovaBase));
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>Unmaps what <see cref="Map1GiBPerPage"/> mapped.</summary>
    [IterationCleanup(Target = nameof(Map1GiBPerPage))]
    public void AfterMap() => _ioas.Unmap(new Iova(IovaBase), Length);

    /// <summary>Maps what <see cref="Unmap1GiBPerPage"/> unmaps.</summary>
    [IterationSetup(Target = nameof(Unmap1GiBPerPage))]
    public void BeforeUnmap() => _ioas.Map(_va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(IovaBase));

    /// <summary>IOAS_MAP of 1 GiB; per page.</summary>
    [Benchmark(OperationsPerInvoke = (int)Pages)]
    [InvocationCount(1, 1)]
    public Iova Map1GiBPerPage() => _ioas.Map(_va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(IovaBase));

    /// <summary>IOAS_UNMAP of 1 GiB; per page.</summary>
    [Benchmark(OperationsPerInvoke = (int)Pages)]
    [InvocationCount(1, 1)]
    public ulong Unmap1GiBPerPage() => _ioas.Unmap(new Iova(IovaBase), Length);
}
