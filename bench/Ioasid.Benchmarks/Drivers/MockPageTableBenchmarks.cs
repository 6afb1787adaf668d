using BenchmarkDotNet.Attributes;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Mock;
using Ioasid.Drivers.Mock;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The mock driver's page table and the mock hardware, per page, to compare with ../shared/bench-ref/ptloop.c
/// (remap_ns_per_page, unmap_ns_per_page, map_first_ns_per_page, walk_ns_per_page, iotlb_hit_ns).
/// </summary>
[MemoryDiagnoser]
public class MockPageTableBenchmarks
{
    private const ulong K4 = F.PageSize4K;
    private const ulong Run = 256;
    private const ulong RunIova = 0x100_0000; // leaf index 0 of its table
    private const ulong RunPa = 0x2000_0000;
    private const ulong OneIova = 0x4000_0000;
    private const ulong FreshIova = 0x80_0000_0000; // its own root entry: tables created and freed every time
    private const int Pages = 4096;
    private const ulong GiB = 1UL << 30;

    private PhysicalMemory _memory = null!;
    private MockPageTable _table = null!;
    private MockIommuHardware _hardware = null!;
    private MockIommuHardware _missHardware = null!;
    private BenchDomain _domain = null!;
    private IotlbGather _gather = null!;
    private PhysAddr _runLeafTable;
    private PhysAddr _runParentEntry;
    private DmaRequest[] _requests = null!;

    /// <summary>Tables for the run and the single page exist (kept alive by neighbours); 4096 pages are mapped and cached for the IOTLB benchmarks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _memory = new PhysicalMemory();
        _table = new MockPageTable(_memory);
        _hardware = new MockIommuHardware(_memory, iotlbCapacity: 2 * Pages);
        _missHardware = new MockIommuHardware(_memory, iotlbCapacity: 1); // every lookup of another page misses
        _domain = new BenchDomain(this);
        _gather = new IotlbGather();

        Require(_table.MapPages(new Iova(RunIova + (300 * K4)), new PhysAddr(0x9000_0000), K4, 1, IommuProt.Read, out _));
        Require(_table.MapPages(new Iova(OneIova + K4), new PhysAddr(0x9000_0000), K4, 1, IommuProt.Read, out _));
        ulong l3 = _memory.ReadU64(new PhysAddr(_table.Root.Value + ((ulong)F.Index(RunIova, 4) * 8))) & F.AddressMask;
        ulong l2 = _memory.ReadU64(new PhysAddr(l3 + ((ulong)F.Index(RunIova, 3) * 8))) & F.AddressMask;
        _runParentEntry = new PhysAddr(l2 + ((ulong)F.Index(RunIova, 2) * 8));
        _runLeafTable = F.Address(_memory.ReadU64(_runParentEntry));

        const ulong cachedIova = 0x1_0000_0000;
        Require(_table.MapPages(new Iova(cachedIova), new PhysAddr(0x4000_0000), K4, Pages, IommuProt.Read | IommuProt.Write, out _));
        var rid = Rid.Create(0, 1, 0);
        _hardware.SetRidEntry(rid, MockContextEntry.Translate(_table.Root, 1));
        _missHardware.SetRidEntry(rid, MockContextEntry.Translate(_table.Root, 1));
        _requests = new DmaRequest[Pages];
        var random = new Random(5);
        for (int i = 0; i < Pages; i++)
        {
            _requests[i] = DmaRequest.ForRead(rid, new Iova(cachedIova + ((ulong)random.Next(Pages) * K4) + 8), 8);
            _hardware.Translate(_requests[i]);
        }

        for (int i = 0; i < Pages; i++)
        {
            _requests[i] = _requests[i] with { Iova = new Iova(cachedIova + ((ulong)i * K4) + 8) };
            _hardware.Translate(_requests[i]);
        }
    }

    /// <summary>map_pages of a 256-page run into existing tables, then a raw clear of the 256 entries (about 2 KiB memset) to start over. Per PTE.</summary>
    [Benchmark(OperationsPerInvoke = (int)Run)]
    public void MapRun256ExistingTables()
    {
        Require(_table.MapPages(new Iova(RunIova), new PhysAddr(RunPa), K4, Run, IommuProt.Read | IommuProt.Write, out _));
        _memory.TableEntries(_runLeafTable)[..(int)Run].Clear();
        _memory.WriteU64(_runParentEntry, _memory.ReadU64(_runParentEntry) - (Run << F.SoftwareCountShift));
    }

    /// <summary>map_pages then unmap_pages of a 256-page run in existing tables, gather reset (no sync). Per PTE.</summary>
    [Benchmark(OperationsPerInvoke = (int)Run)]
    public ulong MapUnmapRun256()
    {
        Require(_table.MapPages(new Iova(RunIova), new PhysAddr(RunPa), K4, Run, IommuProt.Read | IommuProt.Write, out _));
        ulong unmapped = _table.UnmapPages(new Iova(RunIova), K4, Run, _gather, _domain);
        _gather.Reset();
        return unmapped;
    }

    /// <summary>Map one 4 KiB page, unmap it and sync (hardware range invalidation), tables kept alive by a neighbour.</summary>
    [Benchmark]
    public ulong MapUnmapSyncOnePage()
    {
        Require(_table.MapPages(new Iova(OneIova), new PhysAddr(RunPa), K4, 1, IommuProt.Read | IommuProt.Write, out _));
        ulong unmapped = _table.UnmapPages(new Iova(OneIova), K4, 1, _gather, _domain);
        _gather.Sync(_domain);
        return unmapped;
    }

    /// <summary>Map one 4 KiB page in an empty subtree (three table pages allocated), unmap it and sync (three freed).</summary>
    [Benchmark]
    public ulong MapUnmapSyncOnePageFreshTables()
    {
        Require(_table.MapPages(new Iova(FreshIova), new PhysAddr(RunPa), K4, 1, IommuProt.Read | IommuProt.Write, out _));
        ulong unmapped = _table.UnmapPages(new Iova(FreshIova), K4, 1, _gather, _domain);
        _gather.Sync(_domain);
        return unmapped;
    }

    /// <summary>Hardware Translate of a cached page (context lookup + IOTLB hit + permission check). Per translation.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TranslateIotlbHit()
    {
        ulong sum = 0;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            sum += _hardware.Translate(requests[i]).Address.Value;
        }

        return sum;
    }

    /// <summary>The bare IOTLB lookup that hits (ptloop's iotlb_hit). Per lookup.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong IotlbLookupHit()
    {
        ulong sum = 0;
        Iotlb tlb = _hardware.Iotlb;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            tlb.TryLookup(1, requests[i].Iova, out IotlbEntry entry);
            sum += entry.Translation.OutputBase.Value;
        }

        return sum;
    }

    /// <summary>Hardware Translate that misses (one-entry IOTLB, every page different): lookup, full 4-level walk, insert. Per translation.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TranslateIotlbMissFullWalk()
    {
        ulong sum = 0;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            sum += _missHardware.Translate(requests[i]).Address.Value;
        }

        return sum;
    }

    /// <summary>The bare 4-level hardware walk, no IOTLB (ptloop's walk). Per walk.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong HardwareWalk()
    {
        ulong sum = 0;
        PhysAddr root = _table.Root;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            _hardware.Walk(root, requests[i].Iova, out Translation t, out _);
            sum += t.OutputBase.Value;
        }

        return sum;
    }

    /// <summary>The driver's software walk (iova_to_phys). Per walk.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong IovaToPhys()
    {
        ulong sum = 0;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            _table.IovaToPhys(requests[i].Iova, out PhysAddr pa);
            sum += pa.Value;
        }

        return sum;
    }

    /// <summary>Map 1 GiB in 4 KiB pages into a new table (515 table pages allocated), then destroy it. Per page.</summary>
    [Benchmark(OperationsPerInvoke = (int)(GiB / K4))]
    public void Map1GiBIn4KPages()
    {
        var table = new MockPageTable(_memory);
        Require(table.MapPages(new Iova(GiB), new PhysAddr(4 * GiB), K4, GiB / K4, IommuProt.Read | IommuProt.Write, out _));
        table.Destroy();
    }

    /// <summary>Map 1 GiB in 2 MiB pages into a new table, then destroy it. Per 2 MiB page.</summary>
    [Benchmark(OperationsPerInvoke = (int)(GiB / F.PageSize2M))]
    public void Map1GiBIn2MPages()
    {
        var table = new MockPageTable(_memory);
        Require(table.MapPages(new Iova(GiB), new PhysAddr(4 * GiB), F.PageSize2M, GiB / F.PageSize2M, IommuProt.Read | IommuProt.Write, out _));
        table.Destroy();
    }

    private static void Require(Errno e)
    {
        if (e != Errno.None)
        {
            throw new InvalidOperationException(e.ToString());
        }
    }

    private sealed class BenchDomain : IommuDomain
    {
        public BenchDomain(MockPageTableBenchmarks owner)
            : base(IommuDomainType.Paging, new DomainOps { IotlbSync = Sync })
        {
            Bench = owner;
        }

        public MockPageTableBenchmarks Bench { get; }

        private static void Sync(IommuDomain domain, IotlbGather gather)
        {
            MockPageTableBenchmarks b = ((BenchDomain)domain).Bench;
            if (!gather.IsEmpty)
            {
                b._hardware.InvalidateRange(1, new Iova(gather.Start), gather.End - gather.Start + 1);
            }

            b._table.FreeGatheredTables(gather);
        }
    }
}
