using BenchmarkDotNet.Attributes;
using Ioasid.Core.Platform;

namespace Ioasid.Benchmarks.Platform;

/// <summary>Entry access to simulated physical memory: random u64 reads/writes over 1 GiB of backed memory, and table-page access.</summary>
[MemoryDiagnoser]
public class PhysicalMemoryBenchmarks
{
    private const int Accesses = 1 << 16;
    private const ulong Span = 1UL << 30;

    private PhysicalMemory _memory = null!;
    private PhysAddr[] _addresses = null!;
    private PhysAddr[] _tables = null!;
    private int[] _indexes = null!;

    /// <summary>Backs 1 GiB (one write per 2 MiB block) and draws random aligned addresses and table pages inside it.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _memory = new PhysicalMemory();
        for (ulong pa = 0; pa < Span; pa += PhysicalMemory.BlockSize)
        {
            _memory.WriteU64(new PhysAddr(pa), pa);
        }

        var random = new Random(42);
        _addresses = new PhysAddr[Accesses];
        _tables = new PhysAddr[Accesses];
        _indexes = new int[Accesses];
        for (int i = 0; i < Accesses; i++)
        {
            _addresses[i] = new PhysAddr((ulong)random.NextInt64((long)(Span / 8)) * 8);
            _tables[i] = PhysAddr.FromFrame((ulong)random.NextInt64((long)(Span / AddressMath.PageSize)));
            _indexes[i] = random.Next(PhysicalMemory.EntriesPerTable);
        }
    }

    /// <summary>One random <see cref="PhysicalMemory.ReadU64"/>.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public ulong ReadU64Random()
    {
        ulong sum = 0;
        foreach (PhysAddr pa in _addresses)
        {
            sum += _memory.ReadU64(pa);
        }

        return sum;
    }

    /// <summary>One random <see cref="PhysicalMemory.WriteU64"/>.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public void WriteU64Random()
    {
        ulong value = 0;
        foreach (PhysAddr pa in _addresses)
        {
            _memory.WriteU64(pa, value++);
        }
    }

    /// <summary>One <see cref="PhysicalMemory.TableEntries"/> of a random table page plus one entry update, as a driver installing a PTE.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public void TableEntriesWrite()
    {
        for (int i = 0; i < Accesses; i++)
        {
            _memory.TableEntries(_tables[i])[_indexes[i]] = (ulong)i | 3;
        }
    }

    /// <summary>One <see cref="PhysicalMemory.ReadTableEntries"/> of a random table page plus one entry read, as a hardware walker step.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public ulong ReadTableEntriesRead()
    {
        ulong sum = 0;
        for (int i = 0; i < Accesses; i++)
        {
            sum += _memory.ReadTableEntries(_tables[i])[_indexes[i]];
        }

        return sum;
    }

    /// <summary>All 512 entries of one table page scanned through <see cref="PhysicalMemory.ReadTableEntries"/>, per entry.</summary>
    [Benchmark(OperationsPerInvoke = 1024 * PhysicalMemory.EntriesPerTable)]
    public ulong TableScanPerEntry()
    {
        ulong sum = 0;
        for (int i = 0; i < 1024; i++)
        {
            foreach (ulong entry in _memory.ReadTableEntries(_tables[i]))
            {
                sum += entry;
            }
        }

        return sum;
    }
}
