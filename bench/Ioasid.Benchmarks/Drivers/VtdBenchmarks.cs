using BenchmarkDotNet.Attributes;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The VT-d driver's second-stage map/unmap and the VT-d hardware's translate, per page, to compare with
/// ../shared/bench-ref/ptloop.c (remap_ns_per_page, walk_ns_per_page, iotlb_hit_ns).
/// </summary>
[MemoryDiagnoser]
public class VtdBenchmarks
{
    private const ulong K4 = 4096;
    private const ulong Run = 256;
    private const ulong RunIova = 0x100_0000; // leaf index 0 of its table
    private const ulong RunPa = 0x2000_0000;
    private const ulong OneIova = 0x4000_0000;
    private const int Pages = 4096;
    private const ulong CachedIova = 0x1_0000_0000;
    private const ulong CountOne = 1UL << SlPte.CountShift;
    private const IommuProt RW = IommuProt.Read | IommuProt.Write;

    private PhysicalMemory _memory = null!;
    private VtdPagingDomain _domain = null!;
    private VtdPagingDomain _missDomain = null!;
    private VtdIommuHardware _hardware = null!;
    private VtdIommuHardware _missHardware = null!;
    private IotlbGather _gather = null!;
    private PhysAddr _runLeafTable;
    private PhysAddr _runParentEntry;
    private PhysAddr _oneLeafTable;
    private PhysAddr _oneParentEntry;
    private ulong _oneParentBase; // the parent entry with the leaf table's count excluding the benchmark's page
    private DmaRequest[] _requests = null!;
    private DmaRequest[] _missRequests = null!;

    /// <summary>A unit with one device in a second-stage domain; tables for the run and the single page exist; 4096 pages mapped and cached.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _memory = new PhysicalMemory(8UL << 30);
        var core = new IommuCore();
        var driver = new VtdIommuDriver(core, _memory);
        driver.AddUnit("dmar0", null, p => p.Rid.Bus == 1, iotlbCapacity: 2 * Pages);
        driver.AddUnit("dmar1", null, p => p.Rid.Bus == 2, iotlbCapacity: 1); // every lookup of another page misses
        core.RegisterDriver(driver.Ops);
        var dev = core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic"));
        var missDev = core.AddDevice(new PciDevice(Rid.Create(2, 0, 0), "gpu"));
        _domain = (VtdPagingDomain)core.AllocPagingDomain(dev, 0, default);
        _missDomain = (VtdPagingDomain)core.AllocPagingDomain(missDev, 0, default);
        Require(core.SetGroupDomain(dev.Group, _domain));
        Require(core.SetGroupDomain(missDev.Group, _missDomain));
        _hardware = VtdIommuDriver.DataOf(dev).Unit.Hardware;
        _missHardware = VtdIommuDriver.DataOf(missDev).Unit.Hardware;
        _gather = new IotlbGather();

        Require(_domain.Ops.MapPages!(_domain, new Iova(RunIova + (300 * K4)), new PhysAddr(0x9000_0000), K4, 1, IommuProt.Read, out _));
        Require(_domain.Ops.MapPages!(_domain, new Iova(OneIova + K4), new PhysAddr(0x9000_0000), K4, 1, IommuProt.Read, out _));
        (_runParentEntry, _runLeafTable) = LeafTable(RunIova);
        (_oneParentEntry, _oneLeafTable) = LeafTable(OneIova);
        _oneParentBase = _memory.ReadU64(_oneParentEntry);

        _requests = new DmaRequest[Pages];
        _missRequests = new DmaRequest[Pages];
        foreach (VtdPagingDomain d in new[] { _domain, _missDomain })
        {
            Require(d.Ops.MapPages!(d, new Iova(CachedIova), new PhysAddr(0x4000_0000), K4, Pages, RW, out _));
        }

        for (int i = 0; i < Pages; i++)
        {
            _requests[i] = DmaRequest.ForRead(dev.Rid, new Iova(CachedIova + ((ulong)i * K4) + 8), 8);
            _missRequests[i] = DmaRequest.ForRead(missDev.Rid, new Iova(CachedIova + ((ulong)i * K4) + 8), 8);
            _hardware.Translate(_requests[i]);
        }
    }

    private (PhysAddr Parent, PhysAddr Leaf) LeafTable(ulong iova)
    {
        ulong table = _domain.Root.Value;
        ulong entry = 0;
        for (int level = 4; level > 1; level--)
        {
            entry = table + (((iova >> (12 + (9 * (level - 1)))) & 511) * 8);
            table = _memory.ReadU64(new PhysAddr(entry)) & SlPte.AddressMask;
        }

        return (new PhysAddr(entry), new PhysAddr(table));
    }

    /// <summary>map_pages of a 256-page run into existing tables, then a raw clear of the run (and its count) to start over. Per PTE.</summary>
    [Benchmark(OperationsPerInvoke = (int)Run)]
    public void MapRun256ExistingTables()
    {
        Require(_domain.Ops.MapPages!(_domain, new Iova(RunIova), new PhysAddr(RunPa), K4, Run, RW, out _));
        _memory.TableEntries(_runLeafTable)[..(int)Run].Clear();
        _memory.WriteU64(_runParentEntry, _memory.ReadU64(_runParentEntry) - (Run * CountOne));
    }

    /// <summary>map_pages of one 4 KiB page into existing tables, then a raw clear (two stores, as the SMMU rig's one) to start over.</summary>
    [Benchmark]
    public void MapOne4KExistingTables()
    {
        Require(_domain.Ops.MapPages!(_domain, new Iova(OneIova), new PhysAddr(RunPa), K4, 1, RW, out _));
        _memory.WriteU64(_oneLeafTable, 0);
        _memory.WriteU64(_oneParentEntry, _oneParentBase);
    }

    /// <summary>unmap_pages of one 4 KiB page (raw-mapped first: the leaf and its table's count, two stores), gather reset without sync.</summary>
    [Benchmark]
    public ulong UnmapOne4K()
    {
        _memory.WriteU64(_oneLeafTable, RunPa | SlPte.Read | SlPte.Write);
        _memory.WriteU64(_oneParentEntry, _oneParentBase + CountOne);
        ulong unmapped = _domain.Ops.UnmapPages!(_domain, new Iova(OneIova), K4, 1, _gather);
        _gather.Reset();
        return unmapped;
    }

    /// <summary>Map, unmap and iotlb_sync one page: a real PSI plus wait through the invalidation queue.</summary>
    [Benchmark]
    public ulong MapUnmapSyncOnePage()
    {
        Require(_domain.Ops.MapPages!(_domain, new Iova(OneIova), new PhysAddr(RunPa), K4, 1, RW, out _));
        ulong unmapped = _domain.Ops.UnmapPages!(_domain, new Iova(OneIova), K4, 1, _gather);
        _gather.Sync(_domain);
        return unmapped;
    }

    /// <summary>Hardware Translate of a cached page (context fast path, IOTLB hit, permission and window checks). Per translation.</summary>
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

    /// <summary>Hardware Translate that misses (one-entry IOTLB): lookup, full 4-level second-stage walk, insert. Per translation.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TranslateIotlbMissFullWalk()
    {
        ulong sum = 0;
        DmaRequest[] requests = _missRequests;
        for (int i = 0; i < requests.Length; i++)
        {
            sum += _missHardware.Translate(requests[i]).Address.Value;
        }

        return sum;
    }

    private static void Require(Errno errno)
    {
        if (errno != Errno.None)
        {
            throw new InvalidOperationException(errno.ToString());
        }
    }
}
