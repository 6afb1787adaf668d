using BenchmarkDotNet.Attributes;
using Ioasid.Core.Platform;

namespace Ioasid.Benchmarks.Platform;

/// <summary>GUP-style pin + unpin of 1 GiB in 4 KiB pages, from an address space and from a memfd; reported per page.</summary>
[MemoryDiagnoser]
public class PinBenchmarks
{
    private const int Pages = (int)((1UL << 30) / AddressMath.PageSize);

    private UserAddressSpace _mm = null!;
    private MemFd _file = null!;
    private ulong _va;
    private ulong[] _pfns = null!;

    /// <summary>Maps 1 GiB of anonymous memory and a 1 GiB memfd, and pins both once so frames and pin arrays exist.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var machine = new Machine();
        _mm = machine.CreateProcess().Mm;
        _va = _mm.Map(1UL << 30);
        _file = machine.CreateMemFd("ram", 1UL << 30);
        _pfns = new ulong[Pages];
        Check(_mm.TryPin(_va, Pages, write: true, _pfns));
        _mm.Unpin(_pfns);
        Check(_file.TryPin(0, Pages, write: true, _pfns));
        _file.Unpin(_pfns);
    }

    /// <summary>Pin then unpin 262,144 anonymous pages; time per page.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public void PinUnpinAnonymous()
    {
        Check(_mm.TryPin(_va, Pages, write: true, _pfns));
        _mm.Unpin(_pfns);
    }

    /// <summary>Pin then unpin 262,144 memfd pages by file offset; time per page.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public void PinUnpinMemFd()
    {
        Check(_file.TryPin(0, Pages, write: true, _pfns));
        _file.Unpin(_pfns);
    }

    private static void Check(Errno error)
    {
        if (error != Errno.None)
        {
            throw new IoasidException(error, "Benchmark pin failed.");
        }
    }
}
