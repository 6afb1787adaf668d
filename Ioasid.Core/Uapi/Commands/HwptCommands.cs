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

        var flags = (HwptAllocFlags)cmd.Flags;
        Hwpt hwpt;
        switch (pt)
        {
            case Ioas ioas:
            {
                if ((cmd.Flags & ~HwptPagingValidFlags) != 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                var data = ReadUserData(cmd.DataUptr, cmd.DataLen, out var fault);
                if (fault != Errno.None)
                {
                    return fault;
                }

                hwpt = Context.AllocHwptPaging(device, ioas.Id, flags, cmd.DataType, data);
                break;
            }

            case HwptPaging parent:
            {
                if ((cmd.Flags & ~HwptNestedValidFlags) != 0 || cmd.DataLen == 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                var data = ReadUserData(cmd.DataUptr, cmd.DataLen, out var fault);
                if (fault != Errno.None)
                {
                    return fault;
                }

                hwpt = Context.AllocHwptNested(device, parent.Id, flags, cmd.DataType, data);
                break;
            }

            default:
                return Errno.EINVAL; // a vIOMMU would be valid here, but none can exist yet
        }

        cmd.OutHwptId = hwpt.Id.Value;
        return DestroyOnFailure(ucmd.Respond(), hwpt);
    }

    /// <summary>
    /// The driver data of HWPT_ALLOC (<c>data_uptr</c>, <c>data_len</c>). Driver structs are small: a length past
    /// <see cref="MaxUserDataLength"/> is E2BIG, as the driver's copy_struct_from_user would refuse a non-zero tail.
    /// </summary>
    private byte[] ReadUserData(ulong uptr, uint length, out Errno fault)
    {
        fault = Errno.None;
        if (length == 0)
        {
            return [];
        }

        if (length > MaxUserDataLength)
        {
            fault = Errno.E2BIG;
            return [];
        }

        var data = new byte[length];
        fault = UserPointer.ReadBytes(Mm, uptr, data);
        return data;
    }

    private const uint MaxUserDataLength = 4096;

    private Errno GetHwInfo(ref Ucmd<IommuHwInfo> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if ((cmd.Flags & ~UapiConstants.HwInfoFlagInputType) != 0 || HasReservedBytes(cmd))
        {
            return Errno.EOPNOTSUPP;
        }

        var requested = (cmd.Flags & UapiConstants.HwInfoFlagInputType) != 0 ? cmd.InDataType : UapiConstants.HwInfoTypeNone;
        var device = Context.Lookup<IommufdDevice>(cmd.DevId);
        var info = device.GetHwInfo(requested);

        // min(data_len, blob) bytes go out, the rest of the caller's buffer is zeroed, then data_len says the blob's size.
        var copy = (int)Math.Min(cmd.DataLen, (uint)info.Data.Length);
        var fault = UserPointer.WriteBytes(Mm, cmd.DataUptr, info.Data.AsSpan(0, copy));
        if (fault == Errno.None && (uint)copy < cmd.DataLen)
        {
            fault = ClearUser(cmd.DataUptr + (uint)copy, cmd.DataLen - (uint)copy);
        }

        if (fault != Errno.None)
        {
            return fault;
        }

        cmd.DataLen = (uint)info.Data.Length;
        cmd.OutDataType = info.Type;
        cmd.OutCapabilities = (ulong)info.Capabilities;
        cmd.OutMaxPasidLog2 = info.MaxPasidLog2;
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

        var hwpt = Context.Lookup<HwptPaging>(ucmd.Cmd.HwptId);
        hwpt.SetDirtyTracking((ucmd.Cmd.Flags & UapiConstants.HwptDirtyTrackingEnable) != 0);
        return Errno.None;
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

        // The user bitmap is an array of u64 words, bit i for [iova + i*page_size, +page_size). Bits are only set.
        var bits = cmd.Length / cmd.PageSize;
        var words = (bits + 63) / 64;
        if (words > MaxBitmapWords)
        {
            return Errno.ENOMEM;
        }

        var bitmap = new ulong[words];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(bitmap.AsSpan());
        var fault = UserPointer.ReadBytes(Mm, cmd.Data, bytes);
        if (fault != Errno.None)
        {
            return fault;
        }

        hwpt.ReadAndClearDirty(new Iova(cmd.Iova), cmd.Length, cmd.PageSize, bitmap, (cmd.Flags & UapiConstants.HwptGetDirtyBitmapNoClear) != 0);
        return UserPointer.WriteBytes(Mm, cmd.Data, bytes);
    }

    /// <summary>The largest bitmap one GET_DIRTY_BITMAP handles here (8 MiB; the kernel walks larger ones in pieces).</summary>
    private const ulong MaxBitmapWords = 1UL << 20;

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

        uint handled = 0;
        Errno rc;
        try
        {
            rc = Context.Lookup(cmd.HwptId) switch
            {
                Hwpt hwpt => InvalidateEntries(hwpt, cmd.DataType, cmd.DataUptr, cmd.EntryLen, cmd.EntryNum, out handled),
                _ => Errno.EINVAL, // only a nested HWPT (or a vIOMMU, none of which exist yet) takes invalidations
            };
        }
        catch (IoasidException error)
        {
            rc = error.Errno;
        }

        // entry_num always goes back, with the number of entries handled.
        cmd.EntryNum = handled;
        return ucmd.Respond() != Errno.None ? Errno.EFAULT : rc;
    }

    /// <summary>
    /// Reads the entries as the driver would, one by one: those before an unreadable entry are still handed over,
    /// and the unreadable one ends the call with EFAULT.
    /// </summary>
    private Errno InvalidateEntries(Hwpt hwpt, uint dataType, ulong uptr, uint entryLength, uint entryCount, out uint handled)
    {
        handled = 0;
        if (hwpt is HwptNested && (ulong)entryLength * entryCount > MaxInvalidateBytes)
        {
            return Errno.ENOMEM;
        }

        var readable = 0u;
        var entries = hwpt is HwptNested ? new byte[(ulong)entryLength * entryCount] : [];
        var fault = Errno.None;
        for (; hwpt is HwptNested && readable < entryCount; readable++)
        {
            fault = UserPointer.ReadBytes(Mm, uptr + (ulong)readable * entryLength, entries.AsSpan((int)(readable * entryLength), (int)entryLength));
            if (fault != Errno.None)
            {
                break;
            }
        }

        // A driver error propagates with handled already written, since handled is the caller's variable.
        hwpt.Invalidate(dataType, entries.AsSpan(0, (int)(readable * entryLength)), entryLength, readable, out handled);
        return fault;
    }

    /// <summary>The most entry bytes one HWPT_INVALIDATE takes here (1 MiB).</summary>
    private const ulong MaxInvalidateBytes = 1UL << 20;

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
