using BenchmarkDotNet.Attributes;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Benchmarks.Drivers;

/// <summary>
/// The SMMUv3 driver's stage-1 domain (io-pgtable-arm through the generated domain ops) and the SMMUv3 hardware, per
/// page, in the 4 KiB and 64 KiB granules; compare with ../shared/bench-ref/ptloop.c (remap_ns_per_page etc.).
/// Unmap is measured alone and with the driver's iotlb_sync (TLBI_NH_VA + CMD_SYNC through the command queue in memory).
/// </summary>
[MemoryDiagnoser]
public class SmmuPageTableBenchmarks
{
    private const ulong Run = 256;
    private const int Pages = 4096;

    private PhysicalMemory _memory = null!;
    private SmmuV3Driver _driver = null!;
    private SmmuV3Driver _missDriver = null!;
    private SmmuPagingDomain _domain = null!;
    private DomainOps _ops = null!;
    private IotlbGather _gather = null!;
    private DmaRequest[] _requests = null!;
    private ulong _page;
    private ulong _runIova;
    private ulong _oneIova;
    private PhysAddr _runLeaf;
    private PhysAddr _oneLeaf;
    private ulong _oneLeafValue;

    /// <summary>The granule of the stage-1 domain.</summary>
    [Params(TranslationGranule.Size4K, TranslationGranule.Size64K)]
    public TranslationGranule Granule { get; set; }

    /// <summary>A device attached to a stage-1 domain; the run's and the single page's tables exist; 4096 pages mapped and cached.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _memory = new PhysicalMemory();
        _page = Granule.PageSize();
        _driver = Build(_memory, SmmuV3Hardware.DefaultIotlbCapacity * 8, out IommuDevice device, out _domain);
        var missCore = new IommuCore();
        _missDriver = new SmmuV3Driver(missCore, new SmmuV3Hardware(_memory, iotlbCapacity: 1), "smmu-miss");
        _ops = _domain.Ops;
        _gather = new IotlbGather();
        ulong table = 1UL << Granule.LevelShift(2); // a leaf table covers this much
        _runIova = 4 * table;
        _oneIova = 8 * table;
        Require(_ops.MapPages!(_domain, new Iova(_runIova + (300 * _page)), new PhysAddr(0x9000_0000), _page, 1, IommuProt.Read, out _));
        Require(_ops.MapPages!(_domain, new Iova(_oneIova + _page), new PhysAddr(0x9000_0000), _page, 1, IommuProt.Read, out _));
        _runLeaf = LeafAddress(_runIova);
        _oneLeaf = LeafAddress(_oneIova);

        ulong cached = 16 * table;
        Require(_ops.MapPages!(_domain, new Iova(cached), new PhysAddr(0x1_0000_0000), _page, Pages, IommuProt.Read | IommuProt.Write | IommuProt.Cache, out _));
        _requests = new DmaRequest[Pages];
        for (int i = 0; i < Pages; i++)
        {
            _requests[i] = DmaRequest.ForRead(device.Rid, new Iova(cached + ((ulong)i * _page) + 8), 8);
            _driver.Hardware.Translate(_requests[i]);
        }

        // The miss SMMU points the same device's STE at the same CD (same tables) with a one-entry TLB.
        missCore.RegisterDriver(_missDriver.Ops);
        var missDevice = missCore.AddDevice(new PciDevice(device.Rid, "miss"));
        Require(missCore.SetGroupDomain(missDevice.Group, missCore.AllocPagingDomain(missDevice, 0, default)));
        SmmuMaster master = _missDriver.MasterOf(missDevice);
        master.CdTable!.Write(0, _domain.MakeCd());
        _missDriver.Commands.Add(SmmuCommand.CfgiCd(master.StreamId, 0));
        _missDriver.Commands.Sync();
        if (_missDriver.Hardware.Translate(_requests[5]).Address.Value != 0x1_0000_0000 + (5 * _page) + 8)
        {
            throw new InvalidOperationException("miss rig does not translate");
        }

        _oneLeafValue = _domain.Table.LeafAttributes(IommuProt.Read | IommuProt.Write, 3) | 0x2000_0000;
    }

    /// <summary>map_pages of a 256-page run into existing tables, then a raw clear of the entries. Per PTE.</summary>
    [Benchmark(OperationsPerInvoke = (int)Run)]
    public void MapRun256ExistingTables()
    {
        Require(_ops.MapPages!(_domain, new Iova(_runIova), new PhysAddr(0x2000_0000), _page, Run, IommuProt.Read | IommuProt.Write, out _));
        for (ulong i = 0; i < Run; i += 512)
        {
            _memory.TableEntries(new PhysAddr(_runLeaf.Value + (i * 8)))[..(int)Math.Min(512, Run - i)].Clear();
        }
    }

    /// <summary>map_pages of one page into existing tables, then a raw clear of its entry.</summary>
    [Benchmark]
    public void MapOnePage()
    {
        Require(_ops.MapPages!(_domain, new Iova(_oneIova), new PhysAddr(0x2000_0000), _page, 1, IommuProt.Read | IommuProt.Write, out _));
        _memory.WriteU64(_oneLeaf, 0);
    }

    /// <summary>A raw write of one leaf, then unmap_pages alone (gather reset without sync): the driver's page-table work, as VT-d's UnmapOne4K.</summary>
    [Benchmark]
    public ulong UnmapOnePage()
    {
        _memory.WriteU64(_oneLeaf, _oneLeafValue);
        ulong unmapped = _ops.UnmapPages!(_domain, new Iova(_oneIova), _page, 1, _gather);
        _gather.Reset();
        return unmapped;
    }

    /// <summary>A raw write of one leaf, then unmap_pages + iotlb_sync (TLBI_NH_VA, CMD_SYNC, hardware executes both).</summary>
    [Benchmark]
    public ulong UnmapOnePageWithSync()
    {
        _memory.WriteU64(_oneLeaf, _oneLeafValue);
        ulong unmapped = _ops.UnmapPages!(_domain, new Iova(_oneIova), _page, 1, _gather);
        _gather.Sync(_domain);
        return unmapped;
    }

    /// <summary>Hardware Translate of a cached page (fast-path config + TLB hit + permission check). Per translation.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TranslateIotlbHit()
    {
        ulong sum = 0;
        SmmuV3Hardware hardware = _driver.Hardware;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            sum += hardware.Translate(requests[i]).Address.Value;
        }

        return sum;
    }

    /// <summary>Hardware Translate that misses (one-entry TLB): lookup, full walk, insert. Per translation.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TranslateIotlbMissFullWalk()
    {
        ulong sum = 0;
        SmmuV3Hardware hardware = _missDriver.Hardware;
        DmaRequest[] requests = _requests;
        for (int i = 0; i < requests.Length; i++)
        {
            sum += hardware.Translate(requests[i]).Address.Value;
        }

        return sum;
    }

    private SmmuV3Driver Build(PhysicalMemory memory, int iotlbCapacity, out IommuDevice device, out SmmuPagingDomain domain)
    {
        var core = new IommuCore();
        var driver = new SmmuV3Driver(core, new SmmuV3Hardware(memory, iotlbCapacity: iotlbCapacity)) { PreferredGranule = Granule };
        core.RegisterDriver(driver.Ops);
        device = core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "nic"));
        domain = (SmmuPagingDomain)core.AllocPagingDomain(device, 0, default);
        Require(core.SetGroupDomain(device.Group, domain));
        return driver;
    }

    private PhysAddr LeafAddress(ulong iova)
    {
        Span<ulong> walk = stackalloc ulong[4];
        int n = _domain.Table.ReadWalk(new Iova(iova), walk);
        ulong table = walk[n - 2] & VmsaDescriptor.AddressMask;
        return new PhysAddr(table + (((iova >> Granule.PageShift()) & ((1UL << Granule.Stride()) - 1)) * 8));
    }

    private static void Require(Errno errno)
    {
        if (errno != Errno.None)
        {
            throw new InvalidOperationException(errno.ToString());
        }
    }
}
