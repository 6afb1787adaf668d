using System.Buffers.Binary;
using Ioasid.Core.Iommu;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// The mock driver's ops plus <c>domain_alloc_nested</c>, shaped like the kernel selftest's nested mock: user data
/// type <see cref="DataType"/> (IOMMU_HWPT_DATA_SELFTEST, a u32 iotlb value), and user invalidations of type
/// <see cref="InvalidateType"/> whose 8-byte entries are <c>{flags u32 (ALL 1), iotlb_id u32 (0..3)}</c>.
/// </summary>
internal static class NestingOps
{
    public const uint DataType = 0xdead;
    public const uint InvalidateType = 0xdeadbeef;
    public const uint IotlbIdMax = 3;

    public static IommuOps Create(MockIommuDriver driver)
    {
        var mock = driver.Ops;
        var ops = new IommuOps { Name = mock.Name, ProbeDevice = mock.ProbeDevice, DeviceGroup = mock.DeviceGroup };
        foreach (var property in typeof(IommuOps).GetProperties())
        {
            if (property.CanWrite)
            {
                property.SetValue(ops, property.GetValue(mock));
            }
        }

        DomainAllocNestedOp allocNested = (device, parent, flags, dataType, data) =>
        {
            if (dataType != DataType)
            {
                throw new IoasidException(Errno.EOPNOTSUPP, $"nested data type 0x{dataType:x}");
            }

            if (data.Length < 4)
            {
                throw new IoasidException(Errno.EINVAL, "iommu_hwpt_selftest is 4 bytes");
            }

            return new NestedDomain(parent, BinaryPrimitives.ReadUInt32LittleEndian(data));
        };
        typeof(IommuOps).GetProperty(nameof(IommuOps.DomainAllocNested))!.SetValue(ops, allocNested);
        return ops;
    }

    /// <summary>A nested mock domain: four IOTLB slots holding the user's value until invalidated to 0.</summary>
    internal sealed class NestedDomain : IommuDomain
    {
        public NestedDomain(IommuDomain parent, uint iotlb)
            : base(IommuDomainType.Nested, Ops)
        {
            Parent = parent;
            Array.Fill(Iotlb, iotlb);
        }

        public IommuDomain Parent { get; }

        public uint[] Iotlb { get; } = new uint[IotlbIdMax + 1];

        private static new DomainOps Ops { get; } = new()
        {
            AttachDev = (_, _, _) => Errno.None,
            SetDevPasid = (_, _, _, _) => Errno.None,
            CacheInvalidateUser = Invalidate,
        };

        private static Errno Invalidate(IommuDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled)
        {
            handled = 0;
            if (dataType != InvalidateType || (!entries.IsEmpty && entryLength != 8))
            {
                return Errno.EINVAL;
            }

            var nested = (NestedDomain)domain;
            for (var at = 0; at < entries.Length; at += 8)
            {
                var flags = BinaryPrimitives.ReadUInt32LittleEndian(entries[at..]);
                var id = BinaryPrimitives.ReadUInt32LittleEndian(entries[(at + 4)..]);
                if ((flags & ~1u) != 0)
                {
                    return Errno.EOPNOTSUPP;
                }

                if ((flags & 1) != 0)
                {
                    Array.Clear(nested.Iotlb);
                }
                else if (id > IotlbIdMax)
                {
                    return Errno.EINVAL;
                }
                else
                {
                    nested.Iotlb[id] = 0;
                }

                handled++;
            }

            return Errno.None;
        }
    }
}
