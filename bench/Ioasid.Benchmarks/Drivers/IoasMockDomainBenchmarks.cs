using BenchmarkDotNet.Attributes;
using Ioasid.Benchmarks.Iommufd;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Mock;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The whole IOAS path into a real (mock) domain: IOAS_MAP of 1 GiB of 4 KiB-backed memory pins every page and
/// fills the domain's page table; IOAS_UNMAP clears it, invalidates and unpins. Reported per 4 KiB page.
/// </summary>
[MemoryDiagnoser]
public class IoasMockDomainBenchmarks
{
    private const ulong Length = 1UL << 30;
    private const ulong Pages = Length / 4096;
    private IommufdContext _context = null!;
    private Ioas _ioas = null!;
    private ulong _va;
    private Iova _iova;

    /// <summary>A bound, attached mock device and 1 GiB of touched user memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var machine = new Machine(4UL << 30);
        var process = machine.CreateProcess();
        process.MemlockLimit = UserProcess.RlimitInfinity;
        _context = new IommufdContext(process);
        var core = new IommuCore();
        var driver = new MockIommuDriver(core, machine.Memory);
        core.RegisterDriver(driver.Ops);
        var device = _context.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic")));
        _ioas = _context.AllocIoas();
        device.Attach(_ioas.Id);
        _va = process.Mm.Map(Length);
        var warm = _ioas.Map(_va, Length, IoasMapFlags.ReadWrite); // faults every page in once
        _ioas.Unmap(warm, Length);
        _iova = new Iova(MockIommuDriver.ApertureStart);
        IoasWarmup.Run(_ioas, _va, _iova);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    /// <summary>IOAS_MAP then IOAS_UNMAP of 1 GiB; divide by <see cref="Pages"/> for ns per page.</summary>
    [Benchmark(OperationsPerInvoke = (int)Pages)]
    public ulong MapUnmap1GiBPerPage()
    {
        _ioas.Map(_va, Length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, _iova);
        return _ioas.Unmap(_iova, Length);
    }
}
