// Every statement marked "IOAnnn" below is a mistake the Ioasid analyzers catch at compile time. The expected
// diagnostics are listed next to the code so the package tests can check that the build reports each of them.
using Ioasid;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Misuse;

public static class Mistakes
{
    // IOA004: a PASID has 20 bits; 1 << 20 is out of range and the constructor would throw.
    public static Pasid TooWidePasid() => new Pasid(1u << 20);

    // IOA004: object id 0 is never allocated (the kernel's "no object").
    public static IoasidId NoSuchObject() => new IoasidId(0);

    public static void MapAndUnmap(Ioas ioas, ulong userVa)
    {
        // IOA005: the length is not a multiple of 4 KiB, so IOMMU_IOAS_MAP can only fail with EINVAL.
        Iova iova = ioas.Map(userVa, 0x1800, IoasMapFlags.ReadWrite);

        // IOA005: the IOVA is not 4 KiB aligned.
        ioas.Unmap(new Iova(0x10_0800), 0x1000);

        // IOA007: the IOVA the kernel chose is dropped, so this mapping can never be unmapped by address.
        ioas.Map(userVa, 0x2000, IoasMapFlags.ReadWrite);

        ioas.Unmap(iova, 0x2000);
    }

    public static void LeakAnIoas(IommufdContext iommufd)
    {
        // IOA007: the new IOAS is allocated and forgotten.
        iommufd.AllocIoas();
    }

    public static void MdevOnTheParentsRid(IommuCore core, PciDevice gpu)
    {
        var vgpu = new MediatedDevice(gpu, "vgpu0", new Pasid(5));

        // IOA001: a PCI function fabricated from the mdev's identity (its parent's RID) is handed to the IOMMU core:
        // the mdev would get the whole parent's address space. Bind the parent and attach the mdev's PASID instead.
        core.AddDevice(new PciDevice(vgpu.Parent.Rid, vgpu.Name));
    }
}
