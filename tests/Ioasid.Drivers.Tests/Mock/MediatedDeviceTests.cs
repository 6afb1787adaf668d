using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Mock;

namespace Ioasid.Drivers.Tests.Mock;

/// <summary>
/// Design decision 2: a mediated device never reaches the IOMMU layer. Its DMA is its parent's RID plus its PASID,
/// or a software access to the IOAS.
/// </summary>
public sealed class MediatedDeviceTests : IDisposable
{
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _iommufd;
    private readonly IommuCore _core = new();
    private readonly MockIommuDriver _driver;
    private readonly PciDevice _gpuPci = new(Rid.Create(3, 0, 0), "gpu", pasidBits: 8);
    private readonly IommufdDevice _gpu;
    private readonly Ioas _ioas;
    private readonly ulong _va;

    public MediatedDeviceTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        _driver = new MockIommuDriver(_core, _machine.Memory);
        _core.RegisterDriver(_driver.Ops);
        _gpu = _iommufd.BindDevice(_core, _core.AddDevice(_gpuPci));
        _ioas = _iommufd.AllocIoas();
        _va = _process.Mm.Map(1UL << 20);
        _process.Mm.Write(_va, "guest page"u8);
    }

    public void Dispose() => _iommufd.Dispose();

    [Fact]
    public void An_mdev_with_a_pasid_does_dma_as_its_parents_rid_and_pasid()
    {
        var vgpu = new MediatedDevice(_gpuPci, "vgpu0", new Pasid(2));
        var binding = _iommufd.BindMediatedDevice(vgpu, _gpu);

        binding.Attach(_ioas.Id);
        var iova = _ioas.Map(_va, 0x1000, IoasMapFlags.ReadWrite);

        // Only the parent is known to the IOMMU layer; the mdev's address space is the parent's PASID 2.
        Assert.Equal([_gpu.Device], _core.Devices);
        Assert.NotNull(_core.GetPasidDomain(_gpu.Device, new Pasid(2)));
        Assert.Null(_gpu.Hwpt);
        var buffer = new byte[10];
        var dma = _driver.Hardware.Dma(DmaRequest.ForRead(_gpuPci.Rid, iova, 10).WithPasid(new Pasid(2)), buffer);
        Assert.True(dma.IsSuccess);
        Assert.Equal("guest page"u8.ToArray(), buffer);
        // The parent's own RID is still blocked: the mdev did not open it.
        Assert.Equal(FaultReason.Blocked, _driver.Hardware.Dma(DmaRequest.ForRead(_gpuPci.Rid, iova, 1), new byte[1]).Fault);

        binding.Unbind();
        Assert.Null(_core.GetPasidDomain(_gpu.Device, new Pasid(2)));
        Assert.False(_driver.Hardware.Dma(DmaRequest.ForRead(_gpuPci.Rid, iova, 1).WithPasid(new Pasid(2)), new byte[1]).IsSuccess);
    }

    [Fact]
    public void An_mdev_without_a_pasid_goes_through_a_software_access_that_honours_unmap()
    {
        var ops = new UnpinningAccessOps();
        var binding = _iommufd.BindMediatedDevice(new MediatedDevice(_gpuPci, "vfn0"), parent: null, ops);
        binding.Attach(_ioas.Id);
        var iova = _ioas.Map(_va, 0x2000, IoasMapFlags.ReadWrite);

        var buffer = new byte[10];
        binding.Access!.Read(iova, buffer);
        Assert.Equal("guest page"u8.ToArray(), buffer);
        var frames = new PhysAddr[2];
        binding.Access.PinPages(iova, 0x2000, frames, write: true);
        Assert.Equal(1, _machine.Memory.PinCount(frames[0]));

        // Unmap while the access holds pins: the callback is asked, unpins, and the unmap completes.
        Assert.Equal(0x2000ul, _ioas.Unmap(iova, 0x2000));
        Assert.Equal(1, ops.Requests);
        Assert.Equal(0, _machine.Memory.PinCount(frames[0]));
        Assert.DoesNotContain(_core.Devices, d => d.Pci != _gpuPci);
        Assert.Null(_core.GetPasidDomain(_gpu.Device, new Pasid(1)));
    }

    [Fact]
    public void Binding_rules()
    {
        var hwpt = _iommufd.AllocHwptPaging(_gpu, _ioas.Id);
        var other = new PciDevice(Rid.Create(4, 0, 0), "other", pasidBits: 8);

        ErrnoAssert(Errno.EINVAL, () => _iommufd.BindMediatedDevice(new MediatedDevice(_gpuPci, "a", new Pasid(1)), parent: null));
        ErrnoAssert(Errno.EINVAL, () => _iommufd.BindMediatedDevice(new MediatedDevice(other, "b", new Pasid(1)), _gpu));
        ErrnoAssert(Errno.EINVAL, () => _iommufd.BindMediatedDevice(new MediatedDevice(_gpuPci, "c"), _gpu));
        var software = _iommufd.BindMediatedDevice(new MediatedDevice(_gpuPci, "d"), null, new UnpinningAccessOps());
        ErrnoAssert(Errno.EINVAL, () => software.Attach(hwpt.Id));
        Assert.Throws<ArgumentException>(() => new MediatedDevice(_gpuPci, "e", new Pasid(256)));
        Assert.Throws<ArgumentException>(() => new MediatedDevice(_gpuPci, "f", Pasid.NoPasid));
    }

    private static void ErrnoAssert(Errno errno, Action action) => Assert.Equal(errno, Assert.Throws<IoasidException>(action).Errno);

    private sealed class UnpinningAccessOps : IAccessOps
    {
        public int Requests { get; private set; }

        public bool NeedsPinPages => true;

        public void Unmap(IommufdAccess access, Iova iova, ulong length)
        {
            Requests++;
            foreach (var pin in access.Pins)
            {
                access.UnpinPages(pin.Iova, pin.Length);
            }
        }
    }
}
