using System;
using System.Numerics;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Uapi;

// Hardware page table commands (hw_pagetable.c, device.c's hw_info, the dirty-tracking ioctls).
public sealed partial class IommuFile
{
    private const uint HwptPagingValidFlags = UapiConstants.HwptAllocNestParent | UapiConstants.HwptAllocDirtyTracking
        | UapiConstants.HwptFaultIdValid | UapiConstants.HwptAllocPasid;

    private const uint HwptNestedValidFlags = UapiConstants.HwptFaultIdValid | UapiConstants.HwptAllocPasid;

    private Errno HwptAlloc(ref Ucmd<IommuHwptAlloc> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if ((cmd.DataType == UapiConstants.HwptDataNone) != (cmd.DataLen == 0))
        {
            return Errno.EINVAL;
        }

        var device = Context.Lookup<IommufdDevice>(cmd.DevId);
        IommufdObject pt;
        try
        {
            pt = Context.Lookup(cmd.PtId);
        }
        catch (IoasidException)
        {
            return Errno.EINVAL; // HWPT_ALLOC turns a failed pt_id lookup into EINVAL
        }

        IommufdObject hwpt;
        switch (pt)
        {
            case Ioas ioas:
                if ((cmd.Flags & ~HwptPagingValidFlags) != 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                if ((cmd.Flags & UapiConstants.HwptFaultIdValid) != 0 && (cmd.Flags & UapiConstants.HwptAllocNestParent) != 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                if (cmd.DataLen != 0)
                {
                    // Driver data for a paging domain: no driver modelled here takes any (the kernel mock rejects it too).
                    return Errno.EOPNOTSUPP;
                }

                var faultCheck = CheckFaultId(cmd.Flags, cmd.FaultId);
                if (faultCheck != Errno.None)
                {
                    return faultCheck;
                }

                hwpt = Context.AllocHwptPaging(device, ioas.Id, cmd.Flags & ~UapiConstants.HwptFaultIdValid);
                break;
            case HwptPaging:
                if ((cmd.Flags & ~HwptNestedValidFlags) != 0 || cmd.DataLen == 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                // Nested HWPTs need the core's nested allocation, which this layer does not have yet.
                return Errno.EOPNOTSUPP;
            default:
                return Errno.EINVAL;
        }

        cmd.OutHwptId = hwpt.Id.Value;
        return DestroyOnFailure(ucmd.Respond(), hwpt);
    }

    /// <summary>FAULT_ID_VALID needs a FAULT object; the core has no fault queues, so every id is ENOENT.</summary>
    private Errno CheckFaultId(uint flags, uint faultId)
    {
        if ((flags & UapiConstants.HwptFaultIdValid) == 0)
        {
            return Errno.None;
        }

        return LookupKind(faultId, ObjectKind.Fault) is null ? Errno.ENOENT : Errno.EOPNOTSUPP;
    }

    private Errno GetHwInfo(ref Ucmd<IommuHwInfo> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if ((cmd.Flags & ~UapiConstants.HwInfoFlagInputType) != 0 || HasReservedBytes(cmd))
        {
            return Errno.EOPNOTSUPP;
        }

        if ((cmd.Flags & UapiConstants.HwInfoFlagInputType) == 0)
        {
            cmd.InDataType = UapiConstants.HwInfoTypeNone;
        }

        var device = Context.Lookup<IommufdDevice>(cmd.DevId);

        // Without a hw_info op the answer is type NONE with an empty blob, whatever type was asked for.
        ReadOnlySpan<byte> blob = ReadOnlySpan<byte>.Empty;
        cmd.OutDataType = UapiConstants.HwInfoTypeNone;

        var copy = (uint)Math.Min(cmd.DataLen, (uint)blob.Length);
        var fault = UserPointer.WriteBytes(Mm, cmd.DataUptr, blob[..(int)copy]);
        if (fault == Errno.None && copy < cmd.DataLen)
        {
            fault = ClearUser(cmd.DataUptr + copy, cmd.DataLen - copy);
        }

        if (fault != Errno.None)
        {
            return fault;
        }

        cmd.DataLen = (uint)blob.Length;
        cmd.OutCapabilities = device.Device.Ops.Capable?.Invoke(device.Device, IommuCapability.DirtyTracking) == true
            ? UapiConstants.HwCapDirtyTracking
            : 0;
        var maxPasids = device.Device.MaxPasids;
        cmd.OutMaxPasidLog2 = maxPasids == 0 ? (byte)0 : (byte)BitOperations.Log2(maxPasids);
        return ucmd.Respond();
    }

    private static unsafe bool HasReservedBytes(IommuHwInfo cmd) => cmd.Reserved[0] != 0 || cmd.Reserved[1] != 0 || cmd.Reserved[2] != 0;

    /// <summary><c>clear_user</c>: zeroes <paramref name="length"/> user bytes, a page at a time.</summary>
    private Errno ClearUser(ulong va, ulong length)
    {
        Span<byte> zeros = stackalloc byte[(int)AddressMath.PageSize];
        zeros.Clear();
        while (length > 0)
        {
            var chunk = (int)Math.Min(length, (ulong)zeros.Length);
            var fault = UserPointer.WriteBytes(Mm, va, zeros[..chunk]);
            if (fault != Errno.None)
            {
                return fault;
            }

            va += (ulong)chunk;
            length -= (ulong)chunk;
        }

        return Errno.None;
    }

    private Errno HwptSetDirtyTracking(ref Ucmd<IommuHwptSetDirtyTracking> ucmd)
    {
        if ((ucmd.Cmd.Flags & ~UapiConstants.HwptDirtyTrackingEnable) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        Context.Lookup<HwptPaging>(ucmd.Cmd.HwptId);

        // No domain here has dirty-tracking ops yet: a kernel answers EOPNOTSUPP for such a domain.
        return Errno.EOPNOTSUPP;
    }

    private Errno HwptGetDirtyBitmap(ref Ucmd<IommuHwptGetDirtyBitmap> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if ((cmd.Flags & ~UapiConstants.HwptGetDirtyBitmapNoClear) != 0 || cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var hwpt = Context.Lookup<HwptPaging>(cmd.HwptId);
        var rangeCheck = CheckDirtyRange(hwpt.Ioas.IovaAlignment, cmd.Iova, cmd.Length, cmd.PageSize);
        if (rangeCheck != Errno.None)
        {
            return rangeCheck;
        }

        return Errno.EOPNOTSUPP;
    }

    /// <summary><c>iommufd_check_iova_range</c>: overflow, then IOAS alignment, then page_size and its alignment.</summary>
    private static Errno CheckDirtyRange(ulong alignment, ulong iova, ulong length, ulong pageSize)
    {
        var lastIova = iova + (length - 1);
        if (length == 0 ? iova == 0 : lastIova < iova)
        {
            return Errno.EOVERFLOW; // length 0 wraps length - 1 to U64_MAX
        }

        if ((iova & (alignment - 1)) != 0 || ((lastIova + 1) & (alignment - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        if (pageSize == 0)
        {
            return Errno.EINVAL;
        }

        return (iova & (pageSize - 1)) != 0 || ((lastIova + 1) & (pageSize - 1)) != 0 ? Errno.EINVAL : Errno.None;
    }

    private Errno HwptInvalidate(ref Ucmd<IommuHwptInvalidate> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if (cmd.EntryNum != 0 && (cmd.DataUptr == 0 || cmd.EntryLen == 0))
        {
            return Errno.EINVAL;
        }

        uint done = 0;
        Errno rc;
        try
        {
            var target = Context.Lookup(cmd.HwptId);

            // Only a nested HWPT or a vIOMMU takes invalidations; a paging HWPT or anything else is EINVAL.
            rc = target.Kind is ObjectKind.HwptNested or ObjectKind.Viommu ? Errno.EOPNOTSUPP : Errno.EINVAL;
        }
        catch (IoasidException error)
        {
            rc = error.Errno;
        }

        // entry_num always goes back, with the number of entries handled.
        cmd.EntryNum = done;
        return ucmd.Respond() != Errno.None ? Errno.EFAULT : rc;
    }

    /// <summary>The live object <paramref name="id"/> if it is of <paramref name="kind"/>, else null.</summary>
    private IommufdObject? LookupKind(uint id, ObjectKind kind)
    {
        try
        {
            var obj = Context.Lookup(id);
            return obj.Kind == kind ? obj : null;
        }
        catch (IoasidException)
        {
            return null;
        }
    }
}
