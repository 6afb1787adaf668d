using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Uapi;

// Fault queues, vIOMMU, vDEVICE, vEVENTQ and HW queues (eventq.c, viommu.c). The core has none of these objects
// yet: each command validates its struct in the kernel's order and then answers as a kernel whose drivers lack the
// feature — EOPNOTSUPP where the feature itself is asked for, ENOENT where a vIOMMU id is needed (none can exist).
public sealed partial class IommuFile
{
    // Unknown flags are EOPNOTSUPP; valid ones would need fault queue objects, which the core does not have, and
    // a kernel without the feature answers EOPNOTSUPP too. Either way nothing is created.
    private Errno FaultQueueAlloc(ref Ucmd<IommuFaultAlloc> ucmd) => Errno.EOPNOTSUPP;

    private Errno ViommuAlloc(ref Ucmd<IommuViommuAlloc> ucmd)
    {
        if (ucmd.Cmd.Flags != 0 || ucmd.Cmd.Type == 0)
        {
            return Errno.EOPNOTSUPP;
        }

        Context.Lookup<IommufdDevice>(ucmd.Cmd.DevId);
        return Errno.EOPNOTSUPP; // the device's driver has no vIOMMU support
    }

    private Errno VdeviceAlloc(ref Ucmd<IommuVdeviceAlloc> ucmd) => RequireViommu(ucmd.Cmd.ViommuId);

    private Errno VeventqAlloc(ref Ucmd<IommuVeventqAlloc> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Flags != 0 || cmd.Reserved != 0 || cmd.Type == 0)
        {
            return Errno.EOPNOTSUPP;
        }

        return cmd.VeventqDepth == 0 ? Errno.EINVAL : RequireViommu(cmd.ViommuId);
    }

    private Errno HwQueueAlloc(ref Ucmd<IommuHwQueueAlloc> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Flags != 0 || cmd.Type == 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if (cmd.Length == 0)
        {
            return Errno.EINVAL;
        }

        if (cmd.NestingParentIova > ulong.MaxValue - (cmd.Length - 1))
        {
            return Errno.EOVERFLOW;
        }

        return RequireViommu(cmd.ViommuId);
    }

    private Errno RequireViommu(uint id) => LookupKind(id, ObjectKind.Viommu) is null ? Errno.ENOENT : Errno.EOPNOTSUPP;

    private Errno TestCmd(ref Ucmd<IommuTestCmd> ucmd)
    {
        if (Selftest is null)
        {
            return Errno.ENOTTY;
        }

        var rc = Selftest.Run(this, ref ucmd.Cmd);
        return rc != Errno.None ? rc : ucmd.Respond();
    }
}
