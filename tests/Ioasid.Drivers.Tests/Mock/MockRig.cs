using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Mock;
using Ioasid.Drivers.Mock;

namespace Ioasid.Drivers.Tests.Mock;

/// <summary>
/// A driver-side page table wired to the mock hardware the way the mock driver will be: a domain whose
/// <c>iotlb_sync</c> sends a range invalidation for the domain's tag and then frees the gathered table pages.
/// </summary>
internal sealed class MockRig
{
    public const ulong Tag = 7;
    public const ulong ApertureStart = 1UL << 24;
    public static readonly Rid Device = Rid.Create(0, 3, 0);

    public MockRig(ulong memorySize = 1UL << 30, int faultLogCapacity = 64)
    {
        Memory = new PhysicalMemory(memorySize);
        FramesAtStart = Memory.Frames.AllocatedFrames;
        Table = new MockPageTable(Memory);
        Hardware = new MockIommuHardware(Memory, faultLogCapacity: faultLogCapacity);
        Domain = new RigDomain(this);
        Gather = new IotlbGather();
        Hardware.SetRidEntry(Device, MockContextEntry.Translate(Table.Root, Tag));
    }

    public PhysicalMemory Memory { get; }
    public long FramesAtStart { get; }
    public MockPageTable Table { get; }
    public MockIommuHardware Hardware { get; }
    public RigDomain Domain { get; }
    public IotlbGather Gather { get; }
    public int Syncs { get; set; }

    public Errno Map(ulong iova, ulong pa, ulong pageSize, ulong count, IommuProt prot = IommuProt.Read | IommuProt.Write) =>
        Table.MapPages(new Iova(iova), new PhysAddr(pa), pageSize, count, prot, out _);

    public ulong Unmap(ulong iova, ulong pageSize, ulong count) => Table.UnmapPages(new Iova(iova), pageSize, count, Gather, Domain);

    public void Sync() => Gather.Sync(Domain);

    public TranslationResult Translate(ulong iova, DmaAccess access = DmaAccess.Read) =>
        Hardware.Translate(new DmaRequest(Device, null, new Iova(iova), 1, access));

    internal sealed class RigDomain : IommuDomain
    {
        public RigDomain(MockRig rig)
            : base(IommuDomainType.Paging, new DomainOps { IotlbSync = SyncOp })
        {
            Rig = rig;
            PageSizeBitmap = MockPageTable.PageSizeBitmap;
        }

        public MockRig Rig { get; }

        private static void SyncOp(IommuDomain domain, IotlbGather gather)
        {
            MockRig rig = ((RigDomain)domain).Rig;
            rig.Syncs++;
            if (!gather.IsEmpty)
            {
                rig.Hardware.InvalidateRange(Tag, new Iova(gather.Start), gather.End - gather.Start + 1);
            }

            rig.Table.FreeGatheredTables(gather);
        }
    }
}
