using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// A nested domain: the user's (guest's) stage-1 configuration — two qwords of a vSTE, <c>iommu_hwpt_arm_smmuv3</c>
/// (data type 2) — over a nest-parent stage-2 domain. Attached to a RID it installs a nested STE (drivers.md §3.4):
/// the parent's stage-2 STE with Config = nested, MEV = 1 and the user's allowed fields. The guest's CD table then
/// owns every SubstreamID, so the device's PASIDs are refused while it is attached (drivers.md §4.3).
/// </summary>
/// <remarks>
/// Deviation from the kernel: Linux allocates SMMUv3 nested domains through a vIOMMU (<c>alloc_domain_nested</c>)
/// and takes invalidations through the vIOMMU's <c>cache_invalidate</c>, translating vSIDs through vDEVICEs. This
/// model uses <c>domain_alloc_nested</c> directly with the parent HWPT, tags with the parent's VMID, takes
/// <c>iommu_viommu_arm_smmuv3_invalidate</c> entries through the nested domain's <c>cache_invalidate_user</c>, and
/// accepts as a "vSID" only the StreamID of a device the domain is attached to (identity vSID = pSID).
/// </remarks>
[IommuDomainOps]
public sealed partial class SmmuNestedDomain : IommuDomain
{
    /// <summary>IOMMU_HWPT_DATA_ARM_SMMUV3.</summary>
    public const uint DataType = 2;

    /// <summary>IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3.</summary>
    public const uint InvalidateDataType = 1;

    /// <summary>Size of <c>iommu_hwpt_arm_smmuv3</c> and of one invalidation entry.</summary>
    public const int DataSize = 16;

    // Fields of the vSTE a user may set: qw0 V, Config, S1Fmt, S1ContextPtr, S1CDMax; qw1 S1DSS, S1CIR/COR/CSH, S1STALLD, EATS.
    private const ulong AllowedQw0 = 0x1UL | (0x7UL << 1) | (0x3UL << 4) | (((1UL << 46) - 1) << 6) | (0x1FUL << 59);
    private const ulong AllowedQw1 = 0x3UL | (0x3UL << 2) | (0x3UL << 4) | (0x3UL << 6) | (1UL << 27) | (0x3UL << 28);

    private SmmuNestedDomain(SmmuPagingDomain parent, ulong qw0, ulong qw1, StreamTableEntry ste)
        : base(IommuDomainType.Nested, OpsTable)
    {
        Parent = parent;
        UserQw0 = qw0;
        UserQw1 = qw1;
        Ste = ste;
    }

    /// <summary>The nest-parent stage-2 domain.</summary>
    public SmmuPagingDomain Parent { get; }

    /// <summary>The user's vSTE qword 0.</summary>
    public ulong UserQw0 { get; }

    /// <summary>The user's vSTE qword 1.</summary>
    public ulong UserQw1 { get; }

    /// <summary>The STE installed for every device the domain is attached to.</summary>
    public StreamTableEntry Ste { get; }

    internal static SmmuNestedDomain Create(SmmuPagingDomain parent, uint flags, uint dataType, ReadOnlySpan<byte> data)
    {
        if (dataType != DataType)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"nested data type {dataType} is not IOMMU_HWPT_DATA_ARM_SMMUV3");
        }

        if (flags != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"nested allocation flags 0x{flags:x} are not supported");
        }

        if (data.Length < DataSize)
        {
            throw new IoasidException(Errno.EINVAL, $"iommu_hwpt_arm_smmuv3 is {DataSize} bytes; got {data.Length}");
        }

        if (parent.Stage != SmmuStage.Stage2 || !parent.NestParent)
        {
            throw new IoasidException(Errno.EINVAL, "the parent of a nested domain must be a NEST_PARENT stage-2 domain");
        }

        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(data);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
        var user = new StreamTableEntry(qw0, qw1, 0, 0);
        if ((qw0 & ~AllowedQw0) != 0 || (qw1 & ~AllowedQw1) != 0 || user.Eats > StreamTableEntry.EatsFull
            || (user.Valid && user.RawConfig is not ((ulong)SteConfig.Abort or (ulong)SteConfig.Bypass or (ulong)SteConfig.S1Translate)))
        {
            throw new IoasidException(Errno.EIO, "the vSTE sets fields or a configuration a user may not");
        }

        StreamTableEntry ste;
        if (!user.Valid || user.Config == SteConfig.Abort)
        {
            ste = StreamTable.Abort();
        }
        else
        {
            ste = parent.Driver.MakeS2Ste(parent);
            if (user.Config == SteConfig.S1Translate)
            {
                ste.Qw0 |= qw0 & ~0xFUL; // S1Fmt, S1ContextPtr, S1CDMax
                ste.Config = SteConfig.Nested;
                ste.Qw1 |= qw1;
                ste.Mev = true;
            }
        }

        return new SmmuNestedDomain(parent, qw0, qw1, ste);
    }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(SmmuNestedDomain domain, IommuDevice device, IommuDomain? old) => domain.Parent.Driver.AttachRid(device, domain);

    [DomainOp(DomainOpKind.CacheInvalidateUser)]
    private static Errno CacheInvalidateUser(SmmuNestedDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled)
    {
        handled = 0;
        if (dataType != InvalidateDataType)
        {
            return Errno.EINVAL;
        }

        if (entries.IsEmpty)
        {
            return Errno.None; // entry_num = 0: the type is supported
        }

        if (entryLength < DataSize)
        {
            return Errno.EINVAL;
        }

        SmmuV3Driver driver = domain.Parent.Driver;
        ushort vmid = domain.Parent.Vmid;
        var converted = new List<SmmuCommand>();
        Errno result = Errno.None;
        for (int offset = 0; offset + DataSize <= entries.Length; offset += (int)entryLength)
        {
            var command = new SmmuCommand(BinaryPrimitives.ReadUInt64LittleEndian(entries[offset..]), BinaryPrimitives.ReadUInt64LittleEndian(entries[(offset + 8)..]));
            if (!TryConvert(domain, driver, command, vmid, out SmmuCommand physical))
            {
                result = Errno.EIO;
                break;
            }

            converted.Add(physical);
        }

        foreach (SmmuCommand command in converted)
        {
            driver.Commands.Add(command);
        }

        if (converted.Count != 0)
        {
            driver.Commands.Sync();
        }

        handled = (uint)converted.Count;
        return result;
    }

    // The kernel's arm_vsmmu_convert_user_cmd: VMID forced to the parent's, NSNH_ALL narrowed to NH_ALL of it, SIDs checked.
    private static bool TryConvert(SmmuNestedDomain domain, SmmuV3Driver driver, SmmuCommand command, ushort vmid, out SmmuCommand physical)
    {
        const ulong VmidField = 0xFFFFUL << 32;
        physical = command;
        switch (command.Opcode)
        {
            case SmmuOpcode.TlbiNsnhAll:
                physical = SmmuCommand.TlbiNhAll(vmid);
                return true;
            case SmmuOpcode.TlbiNhVa:
            case SmmuOpcode.TlbiNhVaa:
            case SmmuOpcode.TlbiNhAll:
            case SmmuOpcode.TlbiNhAsid:
                physical = new SmmuCommand((command.Qw0 & ~VmidField) | ((ulong)vmid << 32), command.Qw1);
                return true;
            case SmmuOpcode.AtcInv:
            case SmmuOpcode.CfgiCd:
            case SmmuOpcode.CfgiCdAll:
                foreach (SmmuMaster master in driver.Masters)
                {
                    if (master.StreamId == command.Sid && ReferenceEquals(master.RidDomain, domain))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
