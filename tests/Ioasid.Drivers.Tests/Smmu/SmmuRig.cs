using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>An IOMMU core with one SMMUv3 driver and its hardware over 1 GiB of memory; devices are added by bus number.</summary>
internal sealed class SmmuRig
{
    public const IommuProt Rw = IommuProt.Read | IommuProt.Write | IommuProt.Cache;

    public SmmuRig(IdRegisters? id = null, StreamIdMap? map = null, TranslationGranule granule = TranslationGranule.Size4K, ulong memory = 1UL << 30)
    {
        Memory = new PhysicalMemory(memory);
        Core = new IommuCore();
        Driver = new SmmuV3Driver(Core, Memory, "smmu0", id, map) { PreferredGranule = granule };
        Core.RegisterDriver(Driver.Ops);
    }

    public PhysicalMemory Memory { get; }
    public IommuCore Core { get; }
    public SmmuV3Driver Driver { get; }
    public SmmuV3Hardware Hardware => Driver.Hardware;

    public IommuDevice AddDevice(byte bus, int pasidBits = 0, byte device = 0) =>
        Core.AddDevice(new PciDevice(Rid.Create(bus, device, 0), $"dev{bus:x2}.{device}", pasidBits: pasidBits));

    public SmmuPagingDomain AllocS1(IommuDevice device) => (SmmuPagingDomain)Core.AllocPagingDomain(device, 0, default);

    public SmmuPagingDomain AllocS2(IommuDevice device, bool nestParent = true) =>
        (SmmuPagingDomain)Core.AllocPagingDomain(device, nestParent ? 1u : 0u, default);

    public void Attach(IommuDevice device, IommuDomain domain) => Assert.Equal(Errno.None, Core.SetGroupDomain(device.Group, domain));

    public void Map(IommuDomain domain, ulong iova, ulong pa, ulong size, IommuProt prot = Rw) =>
        Assert.Equal(Errno.None, Core.Map(domain, new Iova(iova), new PhysAddr(pa), size, prot));

    public TranslationResult Translate(IommuDevice device, ulong iova, DmaAccess access = DmaAccess.Read, uint? pasid = null) =>
        Hardware.Translate(new DmaRequest(device.Rid, pasid is { } p ? new Pasid(p) : null, new Iova(iova), 1, access));

    public SmmuEvent LastEvent() => Hardware.Events[Hardware.Events.Count - 1];

    public uint Sid(IommuDevice device) => Driver.MasterOf(device).StreamId;
}
