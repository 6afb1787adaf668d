using Ioasid.Core.Uapi;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// Fault queues, vIOMMU, vDEVICE, vEVENTQ and HW queues: the core has none of these objects, so each command
/// validates its struct in the kernel's order and answers as a kernel whose driver lacks the feature.
/// </summary>
public sealed class ViommuCommandTests : IDisposable
{
    private readonly UapiRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public void Fault_queue_alloc_is_EOPNOTSUPP_with_or_without_flags()
    {
        var cmd = new IommuFaultAlloc();
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuFaultQueueAlloc, ref cmd));
        cmd = new IommuFaultAlloc { Flags = 1 };
        Assert.Equal(Errno.EOPNOTSUPP, _rig.Ioctl(IoctlNumbers.IommuFaultQueueAlloc, ref cmd));
        Assert.Equal(0u, cmd.OutFaultId);
    }

    [Fact]
    public void Viommu_alloc_checks_flags_type_and_device_before_refusing()
    {
        var ioas = _rig.AllocIoas();
        var mock = _rig.MockDomainOk(ioas);
        IommuViommuAlloc Cmd() => new() { Type = 1, DevId = mock.OutIdevId, HwptId = mock.OutHwptId };
        Errno Run(IommuViommuAlloc c) => _rig.Ioctl(IoctlNumbers.IommuViommuAlloc, ref c);
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Flags = 1 }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd() with { Type = 0 }));
        Assert.Equal(Errno.ENOENT, Run(Cmd() with { DevId = ioas }));
        Assert.Equal(Errno.EOPNOTSUPP, Run(Cmd()));
    }

    [Fact]
    public void Vdevice_veventq_and_hw_queue_need_a_viommu()
    {
        var vdev = new IommuVdeviceAlloc { ViommuId = 1, DevId = 2, VirtId = 3 };
        Assert.Equal(Errno.ENOENT, _rig.Ioctl(IoctlNumbers.IommuVdeviceAlloc, ref vdev));

        IommuVeventqAlloc Q() => new() { ViommuId = 1, Type = 1, VeventqDepth = 2 };
        Errno RunQ(IommuVeventqAlloc c) => _rig.Ioctl(IoctlNumbers.IommuVeventqAlloc, ref c);
        Assert.Equal(Errno.EOPNOTSUPP, RunQ(Q() with { Flags = 1 }));
        Assert.Equal(Errno.EOPNOTSUPP, RunQ(Q() with { Reserved = 1 }));
        Assert.Equal(Errno.EOPNOTSUPP, RunQ(Q() with { Type = 0 }));
        Assert.Equal(Errno.EINVAL, RunQ(Q() with { VeventqDepth = 0 }));
        Assert.Equal(Errno.ENOENT, RunQ(Q()));

        IommuHwQueueAlloc H() => new() { ViommuId = 1, Type = 1, Length = 4096, NestingParentIova = 0x10000 };
        Errno RunH(IommuHwQueueAlloc c) => _rig.Ioctl(IoctlNumbers.IommuHwQueueAlloc, ref c);
        Assert.Equal(Errno.EOPNOTSUPP, RunH(H() with { Flags = 1 }));
        Assert.Equal(Errno.EOPNOTSUPP, RunH(H() with { Type = 0 }));
        Assert.Equal(Errno.EINVAL, RunH(H() with { Length = 0 }));
        Assert.Equal(Errno.EOVERFLOW, RunH(H() with { NestingParentIova = ulong.MaxValue }));
        Assert.Equal(Errno.ENOENT, RunH(H()));
        var ioas = _rig.AllocIoas();
        Assert.Equal(Errno.ENOENT, RunH(H() with { ViommuId = ioas })); // not a vIOMMU
    }
}
