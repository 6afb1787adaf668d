using System;
using System.Buffers.Binary;
using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Uapi;

// The VFIO type1 container ioctls served by iommufd (vfio_compat.c): requests with nr below the iommufd table land
// here. They work on the compat IOAS (IOMMU_VFIO_IOAS, or created when a group joins the container) — a thin shim
// over the IOAS, not a second implementation.
public sealed partial class IommuFile
{
    private const int Type1InfoMinSize = 16; // offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)
    private const int Type1InfoSize = 24;
    private const int DmaAvailCapSize = 12;
    private const int IovaRangeCapHeaderSize = 16;
    private const int IovaRangeSize = 16;

    private Ioas? _compatIoas;

    /// <summary>The VFIO compat IOAS (<c>ictx->vfio_ioas</c>), or null. Destroying that IOAS clears it.</summary>
    public Ioas? CompatIoas
    {
        get => _compatIoas is { IsDestroyed: false } ioas ? ioas : null;
        private set => _compatIoas = value;
    }

    /// <summary><c>iommufd_vfio_compat_ioas_create</c>: the compat IOAS, created as a normal user-visible IOAS if unset.</summary>
    internal Ioas GetOrCreateCompatIoas()
    {
        lock (Context.Sync)
        {
            return CompatIoas ??= Context.AllocIoas();
        }
    }

    private int VfioCompatIoctl(uint request, Span<byte> arg) => request switch
    {
        IoctlNumbers.VfioGetApiVersion => UapiConstants.VfioApiVersion,
        IoctlNumbers.VfioCheckExtension => VfioCheckExtension(ReadValue(arg)),
        IoctlNumbers.VfioSetIommu => VfioSetIommu(ReadValue(arg)).ToNegative(),
        IoctlNumbers.VfioIommuGetInfo => VfioGetInfo(arg).ToNegative(),
        IoctlNumbers.VfioIommuMapDma => VfioMapDma(arg).ToNegative(),
        IoctlNumbers.VfioIommuUnmapDma => VfioUnmapDma(arg).ToNegative(),
        _ => Errno.ENOTTY.ToNegative(), // VFIO_IOMMU_DIRTY_PAGES included: -ENOIOCTLCMD
    };

    private static ulong ReadValue(ReadOnlySpan<byte> arg) => arg.Length switch
    {
        >= sizeof(ulong) => BinaryPrimitives.ReadUInt64LittleEndian(arg),
        >= sizeof(uint) => BinaryPrimitives.ReadUInt32LittleEndian(arg),
        _ => 0,
    };

    private int VfioCheckExtension(ulong extension)
    {
        switch (extension)
        {
            case UapiConstants.VfioType1Iommu:
            case UapiConstants.VfioType1v2Iommu:
            case UapiConstants.VfioUnmapAll:
                return 1;
            case UapiConstants.VfioDmaCcIommu:
                return CompatIoas is { } ioas ? (ioas.EnforcesCacheCoherency() ? 1 : 0) : Errno.ENODEV.ToNegative();
            default:
                return 0; // TYPE1_NESTING, UPDATE_VADDR, NOIOMMU (no CONFIG_VFIO_NOIOMMU) and anything else
        }
    }

    private Errno VfioSetIommu(ulong type)
    {
        if (type != UapiConstants.VfioType1Iommu && type != UapiConstants.VfioType1v2Iommu)
        {
            return Errno.EINVAL;
        }

        var ioas = CompatIoas ?? throw new IoasidException(Errno.ENODEV, "no VFIO compat IOAS: attach a group first");

        // TYPE1 may unmap inside earlier maps: emulated by mapping only with PAGE_SIZE IOPTEs, which can be split.
        if (type == UapiConstants.VfioType1Iommu)
        {
            ioas.SetHugePages(false);
        }

        return Errno.None;
    }

    private Errno VfioMapDma(Span<byte> arg)
    {
        var fault = ExtensibleStruct.ReadFixed(arg, out VfioIommuType1DmaMap map);
        if (fault != Errno.None)
        {
            return fault;
        }

        const uint supported = UapiConstants.VfioDmaMapFlagRead | UapiConstants.VfioDmaMapFlagWrite;
        if (map.Argsz < 32 || (map.Flags & ~supported) != 0)
        {
            return Errno.EINVAL;
        }

        var protection = ((map.Flags & UapiConstants.VfioDmaMapFlagRead) != 0 ? IoasMapFlags.Readable : 0)
            | ((map.Flags & UapiConstants.VfioDmaMapFlagWrite) != 0 ? IoasMapFlags.Writeable : 0);
        var ioas = CompatIoas ?? throw new IoasidException(Errno.ENODEV, "no VFIO compat IOAS");
        ioas.MapForVfioCompat(map.Vaddr, map.Size, protection, map.Iova);
        return Errno.None;
    }

    private Errno VfioUnmapDma(Span<byte> arg)
    {
        var fault = ExtensibleStruct.ReadFixed(arg, out VfioIommuType1DmaUnmap unmap);
        if (fault != Errno.None)
        {
            return fault;
        }

        if (unmap.Argsz < 24 || (unmap.Flags & ~UapiConstants.VfioDmaUnmapFlagAll) != 0)
        {
            return Errno.EINVAL;
        }

        var ioas = CompatIoas ?? throw new IoasidException(Errno.ENODEV, "no VFIO compat IOAS");
        Errno rc;
        ulong unmapped = 0;
        if ((unmap.Flags & UapiConstants.VfioDmaUnmapFlagAll) != 0)
        {
            if (unmap.Iova != 0 || unmap.Size != 0)
            {
                return Errno.EINVAL;
            }

            unmapped = ioas.UnmapAll();
            rc = Errno.None;
        }
        else
        {
            ioas.CutForVfioType1(unmap.Iova, unmap.Size); // a failed cut returns before anything is written back
            try
            {
                unmapped = ioas.UnmapForVfioCompat(unmap.Iova, unmap.Size);
                rc = Errno.None;
            }
            catch (IoasidException error)
            {
                rc = error.Errno;
            }
        }

        // size carries the bytes unmapped back, on the unmap's errors too.
        unmap.Size = unmapped;
        return ExtensibleStruct.WriteFixed(arg, unmap) is var written && written != Errno.None ? written : rc;
    }

    private Errno VfioGetInfo(Span<byte> arg)
    {
        if (arg.Length < Type1InfoMinSize)
        {
            return Errno.EFAULT;
        }

        var info = ExtensibleStruct.FromBytes<VfioIommuType1Info>(arg[..Type1InfoMinSize]);
        if (info.Argsz < Type1InfoMinSize)
        {
            return Errno.EINVAL;
        }

        var argsz = info.Argsz;
        var ioas = CompatIoas ?? throw new IoasidException(Errno.ENODEV, "no VFIO compat IOAS");
        info.Flags = UapiConstants.VfioIommuInfoPgsizes;
        info.IovaPgsizes = ioas.VfioPageSizes();
        info.CapOffset = 0;

        // The chain: DMA_AVAIL, then IOVA_RANGE. A capability is written only if it fits in argsz; each one's next
        // is patched once the following one is placed. The kernel never writes past argsz.
        ulong total = Type1InfoSize;
        ulong lastCap = 0;
        for (var i = 0; i < 2; i++)
        {
            var avail = argsz > total ? argsz - total : 0;
            var rc = i == 0 ? FillDmaAvailCap(arg, total, avail, out var capSize) : FillIovaRangeCap(arg, ioas, total, avail, out capSize);
            if (rc != Errno.None)
            {
                return rc;
            }

            if (lastCap != 0 && argsz >= total)
            {
                rc = WriteU32At(arg, lastCap + 4, (uint)total);
                if (rc != Errno.None)
                {
                    return rc;
                }
            }

            lastCap = total;
            total += capSize;
        }

        if (argsz >= total)
        {
            info.CapOffset = Type1InfoSize;
        }

        info.Argsz = (uint)total;
        info.Flags |= UapiConstants.VfioIommuInfoCaps;
        return ExtensibleStruct.WriteFixed(arg, info, (int)Math.Min(argsz, Type1InfoSize));
    }

    private static Errno FillDmaAvailCap(Span<byte> arg, ulong at, ulong avail, out ulong size)
    {
        size = DmaAvailCapSize;
        if (avail < DmaAvailCapSize)
        {
            return Errno.None;
        }

        // iommufd's limit follows the memory cgroup, so it reports U32_MAX rather than VFIO's U16_MAX default.
        var cap = new VfioIommuType1InfoDmaAvail
        {
            Header = new VfioInfoCapHeader { Id = UapiConstants.VfioIommuType1InfoDmaAvail, Version = 1 },
            Avail = uint.MaxValue,
        };
        return WriteAt(arg, at, ExtensibleStruct.ToBytes(cap));
    }

    private static Errno FillIovaRangeCap(Span<byte> arg, Ioas ioas, ulong at, ulong avail, out ulong size)
    {
        uint count = 0;
        foreach (var range in ioas.GetIovaRanges())
        {
            if (avail >= IovaRangeCapHeaderSize + (ulong)IovaRangeSize * (count + 1))
            {
                var element = new VfioIovaRange { Start = range.Start.Value, End = range.Last.Value };
                var rc = WriteAt(arg, at + IovaRangeCapHeaderSize + (ulong)IovaRangeSize * count, ExtensibleStruct.ToBytes(element));
                if (rc != Errno.None)
                {
                    size = 0;
                    return rc;
                }
            }

            count++;
        }

        size = IovaRangeCapHeaderSize + (ulong)IovaRangeSize * count;
        if (avail < size)
        {
            return Errno.None;
        }

        var header = new VfioIommuType1InfoCapIovaRange
        {
            Header = new VfioInfoCapHeader { Id = UapiConstants.VfioIommuType1InfoCapIovaRange, Version = 1 },
            NrIovas = count,
        };
        return WriteAt(arg, at, ExtensibleStruct.ToBytes(header));
    }

    private static Errno WriteAt(Span<byte> arg, ulong offset, ReadOnlySpan<byte> bytes)
    {
        if (offset > (ulong)arg.Length || (ulong)arg.Length - offset < (ulong)bytes.Length)
        {
            return Errno.EFAULT;
        }

        bytes.CopyTo(arg[(int)offset..]);
        return Errno.None;
    }

    private static Errno WriteU32At(Span<byte> arg, ulong offset, uint value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return WriteAt(arg, offset, bytes);
    }
}
