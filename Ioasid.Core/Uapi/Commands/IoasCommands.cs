using System.Collections.Generic;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Uapi;

// IOMMU_DESTROY and the IOAS commands (ioas.c): each handler checks in the kernel's order, then calls the core.
public sealed partial class IommuFile
{
    private const ulong UlongMax = ulong.MaxValue;

    private Errno Destroy(ref Ucmd<IommuDestroy> ucmd)
    {
        var id = ucmd.Cmd.Id;
        if (!IoasidId.IsValid(id))
        {
            return Errno.ENOENT;
        }

        Context.Destroy(new IoasidId(id));
        return Errno.None;
    }

    private Errno IoasAlloc(ref Ucmd<IommuIoasAlloc> ucmd)
    {
        if (ucmd.Cmd.Flags != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var ioas = Context.AllocIoas();
        ucmd.Cmd.OutIoasId = ioas.Id.Value;
        return DestroyOnFailure(ucmd.Respond(), ioas);
    }

    private Errno IoasIovaRanges(ref Ucmd<IommuIoasIovaRanges> ucmd)
    {
        if (ucmd.Cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var ioas = Context.Lookup<Ioas>(ucmd.Cmd.IoasId);
        var capacity = ucmd.Cmd.NumIovas;
        var ranges = ioas.GetIovaRanges();
        ucmd.Cmd.NumIovas = 0;
        ucmd.Cmd.OutIovaAlignment = ioas.IovaAlignment;
        foreach (var range in ranges)
        {
            if (ucmd.Cmd.NumIovas < capacity)
            {
                var element = new IommuIovaRange { Start = range.Start.Value, Last = range.Last.Value };
                var fault = UserPointer.WriteElement(Mm, ucmd.Cmd.AllowedIovas, ucmd.Cmd.NumIovas, element);
                if (fault != Errno.None)
                {
                    return fault;
                }
            }

            ucmd.Cmd.NumIovas++;
        }

        // The struct goes back before EMSGSIZE, so the caller learns how many ranges there are.
        var rc = ucmd.Respond();
        if (rc != Errno.None)
        {
            return rc;
        }

        return ucmd.Cmd.NumIovas > capacity ? Errno.EMSGSIZE : Errno.None;
    }

    private Errno IoasAllowIovas(ref Ucmd<IommuIoasAllowIovas> ucmd)
    {
        if (ucmd.Cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var ioas = Context.Lookup<Ioas>(ucmd.Cmd.IoasId);
        var ranges = new List<Iommufd.IovaRange>();
        for (ulong i = 0; i < ucmd.Cmd.NumIovas; i++)
        {
            // Entries are read and checked one by one, so a fault after a bad entry is still EINVAL.
            var fault = UserPointer.ReadElement(Mm, ucmd.Cmd.AllowedIovas, i, out IommuIovaRange range);
            if (fault != Errno.None)
            {
                return fault;
            }

            if (range.Start >= range.Last)
            {
                return Errno.EINVAL;
            }

            foreach (var earlier in ranges)
            {
                if (earlier.Start.Value <= range.Last && range.Start <= earlier.Last.Value)
                {
                    return Errno.EINVAL;
                }
            }

            ranges.Add(new Iommufd.IovaRange(new Iova(range.Start), new Iova(range.Last)));
        }

        ioas.AllowIovas(ranges.ToArray());
        return Errno.None;
    }

    private Errno IoasMap(ref Ucmd<IommuIoasMap> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        var early = CheckMapFlags(cmd.Flags, cmd.Reserved, cmd.Iova, cmd.Length, 0);
        if (early != Errno.None)
        {
            return early;
        }

        var ioas = Context.Lookup<Ioas>(cmd.IoasId);
        var iova = ioas.Map(cmd.UserVa, cmd.Length, (IoasMapFlags)cmd.Flags, new Iova(cmd.Iova));
        cmd.Iova = iova.Value;
        return UnmapOnFailure(ucmd.Respond(), ioas, iova, ucmd.Cmd.Length);
    }

    private Errno IoasMapFile(ref Ucmd<IommuIoasMapFile> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        var early = CheckMapFlags(cmd.Flags, 0, cmd.Iova, cmd.Length, 0);
        if (early != Errno.None)
        {
            return early;
        }

        var ioas = Context.Lookup<Ioas>(cmd.IoasId);
        var file = Files?.Get(cmd.Fd);
        if (file is null)
        {
            return Errno.EBADF;
        }

        if (file is not MemFd memfd)
        {
            // Only memfd (shmem) files can be pinned by file offset here. (Which errno a kernel gives for another
            // file type was not verified; EINVAL is what its pinning path reports for a non-shmem mapping.)
            return Errno.EINVAL;
        }

        var iova = ioas.MapFile(memfd, cmd.Start, cmd.Length, (IoasMapFlags)cmd.Flags, new Iova(cmd.Iova));
        cmd.Iova = iova.Value;
        return UnmapOnFailure(ucmd.Respond(), ioas, iova, ucmd.Cmd.Length);
    }

    private Errno IoasCopy(ref Ucmd<IommuIoasCopy> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        var early = CheckMapFlags(cmd.Flags, 0, cmd.DstIova, cmd.Length, cmd.SrcIova);
        if (early != Errno.None)
        {
            return early;
        }

        var source = Context.Lookup<Ioas>(cmd.SrcIoasId);
        if (cmd.Length == 0)
        {
            return Errno.EINVAL;
        }

        source.CollectContiguous(cmd.SrcIova, cmd.Length); // ENOENT/EOVERFLOW before the destination is looked up
        var destination = Context.Lookup<Ioas>(cmd.DstIoasId);
        var iova = destination.CopyFrom(source, new Iova(cmd.SrcIova), cmd.Length, (IoasMapFlags)cmd.Flags, new Iova(cmd.DstIova));
        cmd.DstIova = iova.Value;
        return UnmapOnFailure(ucmd.Respond(), destination, iova, ucmd.Cmd.Length);
    }

    private Errno IoasUnmap(ref Ucmd<IommuIoasUnmap> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        var ioas = Context.Lookup<Ioas>(cmd.IoasId);
        cmd.Length = cmd.Iova == 0 && cmd.Length == UlongMax ? ioas.UnmapAll() : ioas.Unmap(new Iova(cmd.Iova), cmd.Length);
        return ucmd.Respond();
    }

    private Errno Option(ref Ucmd<IommuOption> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var rc = cmd.OptionId switch
        {
            UapiConstants.OptionRlimitMode => RlimitModeOption(ref cmd),
            UapiConstants.OptionHugePages => HugePagesOption(ref cmd),
            _ => Errno.EOPNOTSUPP,
        };
        if (rc != Errno.None)
        {
            return rc;
        }

        // Only val64 is copied back.
        var val64 = cmd.Val64;
        return ucmd.UserSize >= 24 ? RespondVal64(ref ucmd, val64) : Errno.None;
    }

    private static Errno RespondVal64(ref Ucmd<IommuOption> ucmd, ulong val64)
    {
        ucmd.Cmd.Val64 = val64;
        return ucmd.Respond();
    }

    private Errno RlimitModeOption(ref IommuOption cmd)
    {
        if (cmd.ObjectId != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        switch (cmd.Op)
        {
            case UapiConstants.OptionOpGet:
                cmd.Val64 = Context.AccountMode == AccountMode.Mm ? 1UL : 0UL;
                return Errno.None;
            case UapiConstants.OptionOpSet:
                // SetAccountMode checks CAP_SYS_RESOURCE (EPERM), then an empty context (EBUSY), then the value.
                Context.SetAccountMode(cmd.Val64 switch { 0 => AccountMode.User, 1 => AccountMode.Mm, _ => AccountMode.None });
                return Errno.None;
            default:
                return Errno.EOPNOTSUPP;
        }
    }

    private Errno HugePagesOption(ref IommuOption cmd)
    {
        var ioas = Context.Lookup<Ioas>(cmd.ObjectId);
        switch (cmd.Op)
        {
            case UapiConstants.OptionOpSet:
                if (cmd.Val64 > 1)
                {
                    return Errno.EINVAL;
                }

                ioas.SetHugePages(cmd.Val64 == 1);
                return Errno.None;
            case UapiConstants.OptionOpGet:
                cmd.Val64 = ioas.HugePages ? 1UL : 0UL;
                return Errno.None;
            default:
                return Errno.EOPNOTSUPP;
        }
    }

    private Errno VfioIoas(ref Ucmd<IommuVfioIoas> ucmd)
    {
        ref var cmd = ref ucmd.Cmd;
        if (cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        switch (cmd.Op)
        {
            case UapiConstants.VfioIoasGet:
                cmd.IoasId = (CompatIoas ?? throw new IoasidException(Errno.ENODEV, "no VFIO compat IOAS is set")).Id.Value;
                return ucmd.Respond();
            case UapiConstants.VfioIoasSet:
                CompatIoas = Context.Lookup<Ioas>(cmd.IoasId);
                return Errno.None;
            case UapiConstants.VfioIoasClear:
                CompatIoas = null;
                return Errno.None;
            default:
                return Errno.EOPNOTSUPP;
        }
    }

    private Errno IoasChangeProcess(ref Ucmd<IommuIoasChangeProcess> ucmd)
    {
        if (ucmd.Cmd.Reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var fileAreas = 0;
        foreach (var obj in Context.Objects)
        {
            if (obj is not Ioas ioas)
            {
                continue;
            }

            foreach (var area in ioas.Areas)
            {
                if (!area.FromFile)
                {
                    return Errno.EINVAL; // user-VA pages are bound to their mm
                }

                fileAreas++;
            }
        }

        // Nothing to move is a success. Moving the charge of file pages to another process is not modelled by the
        // core yet: answer as a kernel without the feature.
        return fileAreas == 0 ? Errno.None : Errno.EOPNOTSUPP;
    }

    /// <summary>MAP, MAP_FILE and COPY's first checks: unknown flags or reserved (EOPNOTSUPP), ULONG_MAX values (EOVERFLOW), no R/W (EINVAL).</summary>
    private static Errno CheckMapFlags(uint flags, uint reserved, ulong iova, ulong length, ulong sourceIova)
    {
        if ((flags & ~UapiConstants.IoasMapValidFlags) != 0 || reserved != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if (iova == UlongMax || length == UlongMax || sourceIova == UlongMax)
        {
            return Errno.EOVERFLOW;
        }

        return (flags & (uint)IoasMapFlags.ReadWrite) == 0 ? Errno.EINVAL : Errno.None;
    }

    private Errno DestroyOnFailure(Errno rc, IommufdObject created)
    {
        if (rc != Errno.None)
        {
            Context.Destroy(created.Id);
        }

        return rc;
    }

    private static Errno UnmapOnFailure(Errno rc, Ioas ioas, Iova iova, ulong length)
    {
        if (rc != Errno.None)
        {
            ioas.Unmap(iova, length);
        }

        return rc;
    }
}
