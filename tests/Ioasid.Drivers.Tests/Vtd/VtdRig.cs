using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>A machine with the VT-d driver registered in an IOMMU core and one or more units.</summary>
internal sealed class VtdRig
{
    public const ulong K4 = 1UL << 12;
    public const ulong M2 = 1UL << 21;
    public const ulong G1 = 1UL << 30;
    public const IommuProt RW = IommuProt.Read | IommuProt.Write;

    public VtdRig(VtdCapabilities? capabilities = null, ulong memorySize = 4UL << 30)
    {
        Memory = new PhysicalMemory(memorySize);
        Core = new IommuCore();
        Driver = new VtdIommuDriver(Core, Memory);
        Unit = Driver.AddUnit("dmar0", capabilities, pci => pci.Rid.Bus < 0x80);
        Core.RegisterDriver(Driver.Ops);
    }

    public PhysicalMemory Memory { get; }
    public IommuCore Core { get; }
    public VtdIommuDriver Driver { get; }
    public VtdUnit Unit { get; }
    public VtdIommuHardware Hardware => Unit.Hardware;

    public VtdUnit AddSecondUnit(VtdCapabilities? capabilities = null) => Driver.AddUnit("dmar1", capabilities, pci => pci.Rid.Bus >= 0x80);

    public IommuDevice AddDevice(byte bus, byte device = 0, byte function = 0, int pasidBits = 8, string name = "dev") =>
        Core.AddDevice(new PciDevice(Rid.Create(bus, device, function), name, pasidBits: pasidBits));

    public VtdPagingDomain AllocDomain(IommuDevice device, uint flags = 0) => (VtdPagingDomain)Core.AllocPagingDomain(device, flags, default);

    public VtdPagingDomain Attach(IommuDevice device, VtdPagingDomain? domain = null)
    {
        domain ??= AllocDomain(device);
        Assert.Equal(Errno.None, Core.SetGroupDomain(device.Group, domain));
        return domain;
    }

    public void Map(IommuDomain domain, ulong iova, ulong pa, ulong size, IommuProt prot = RW) =>
        Assert.Equal(Errno.None, Core.Map(domain, new Iova(iova), new PhysAddr(pa), size, prot));

    public static VtdIommuHardware HardwareOf(IommuDevice device) => VtdIommuDriver.DataOf(device).Unit.Hardware;

    public static TranslationResult Translate(IommuDevice device, ulong iova, DmaAccess access = DmaAccess.Read, Pasid? pasid = null) =>
        HardwareOf(device).Translate(new DmaRequest(device.Rid, pasid, new Iova(iova), 1, access));

    public static VtdFaultReason Code(TranslationResult result) => (VtdFaultReason)result.VendorCode;

    public ulong ReadU64(ulong address) => Memory.ReadU64(new PhysAddr(address));
}
