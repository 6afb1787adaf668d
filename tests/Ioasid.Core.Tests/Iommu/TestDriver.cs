using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Iommu;

/// <summary>A deliberately small driver whose page table is a dictionary; it records every op call.</summary>
internal sealed class TestDriver
{
    public const ulong PageSizes = (1UL << 12) | (1UL << 21) | (1UL << 30);

    /// <summary>The user data type of the test driver's nested domains; their data is one u64, the stage-1 root.</summary>
    public const uint NestedDataType = 0x7e57;

    public TestDriver(IommuCore core, string name = "test", bool pasid = true, bool blocked = true, Func<PciDevice, bool>? claims = null, bool nested = true, bool pagingFlags = true)
    {
        Unit = new TestUnit(name + "0");
        Blocked = blocked ? new TestDomain(IommuDomainType.Blocked, this, pasid) : null;
        Ops = new IommuOps
        {
            Name = name,
            ProbeDevice = device => claims is null || claims(device.Pci) ? Unit : throw new IoasidException(Errno.ENODEV, "not mine"),
            DeviceGroup = core.Groups.PciDeviceGroup,
            DomainAllocPaging = _ => new TestDomain(IommuDomainType.Unmanaged, this, pasid),
            DomainAllocPagingFlags = !pagingFlags ? null : (_, flags, data) =>
            {
                if (!data.IsEmpty || (flags & ~(uint)(HwptAllocFlags.NestParent | HwptAllocFlags.Pasid)) != 0)
                {
                    throw new IoasidException(Errno.EOPNOTSUPP, "test driver: flags or data not supported");
                }

                Calls.Add($"alloc paging 0x{flags:x}");
                return new TestDomain(IommuDomainType.Unmanaged, this, pasid);
            },
            DomainAllocNested = nested
                ? (device, parent, flags, dataType, data) =>
                {
                    if (dataType != NestedDataType)
                    {
                        throw new IoasidException(Errno.EOPNOTSUPP, $"test driver: data type {dataType}");
                    }

                    if (data.Length < 8)
                    {
                        throw new IoasidException(Errno.EINVAL, "test driver: stage-1 data is 8 bytes");
                    }

                    return new TestNestedDomain(this, parent, BitConverter.ToUInt64(data), pasid);
                }
                : null,
            BlockedDomain = Blocked,
            Capable = (_, capability) => capability == IommuCapability.CacheCoherency,
            GetResvRegions = (device, regions) =>
            {
                if (ReservedRegions.TryGetValue(device.Pci.Name, out var list))
                {
                    regions.AddRange(list);
                }
            },
        };
    }

    public IommuOps Ops { get; }

    public TestUnit Unit { get; }

    public TestDomain? Blocked { get; }

    public List<string> Calls { get; } = new();

    /// <summary>Reserved regions reported per device name.</summary>
    public Dictionary<string, List<ReservedRegion>> ReservedRegions { get; } = new();

    /// <summary>Devices (by name) whose attach_dev fails with this errno.</summary>
    public Dictionary<string, Errno> FailAttach { get; } = new();

    internal sealed class TestUnit(string name) : IommuUnit(name);

    /// <summary>A nested domain: a stage-1 root over a parent; user invalidations of 8-byte entries are recorded (0 is refused with EINVAL).</summary>
    internal sealed class TestNestedDomain : IommuDomain
    {
        public TestNestedDomain(TestDriver driver, IommuDomain parent, ulong stage1Root, bool pasid)
            : base(IommuDomainType.Nested, CreateNestedOps(pasid))
        {
            Driver = driver;
            Parent = parent;
            Stage1Root = stage1Root;
        }

        public TestDriver Driver { get; }

        public IommuDomain Parent { get; }

        public ulong Stage1Root { get; }

        public List<ulong> Invalidations { get; } = new();

        private static DomainOps CreateNestedOps(bool pasid) => new()
        {
            AttachDev = (domain, device, old) =>
            {
                ((TestNestedDomain)domain).Driver.Calls.Add($"attach {device.Pci.Name} nested");
                return Errno.None;
            },
            SetDevPasid = pasid ? (domain, device, p, old) => Errno.None : null,
            CacheInvalidateUser = (IommuDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled) =>
            {
                handled = 0;
                if (dataType != NestedDataType || (!entries.IsEmpty && entryLength != 8))
                {
                    return Errno.EINVAL;
                }

                for (var i = 0; i < entries.Length; i += 8)
                {
                    var entry = BitConverter.ToUInt64(entries[i..]);
                    if (entry == 0)
                    {
                        return Errno.EINVAL;
                    }

                    ((TestNestedDomain)domain).Invalidations.Add(entry);
                    handled++;
                }

                return Errno.None;
            },
            Free = domain => ((TestNestedDomain)domain).Driver.Calls.Add("free nested"),
        };
    }

    internal sealed class TestDomain : IommuDomain
    {
        public TestDomain(IommuDomainType type, TestDriver driver, bool pasid)
            : base(type, CreateOps(pasid))
        {
            Driver = driver;
            if (IsPaging)
            {
                PageSizeBitmap = PageSizes;
            }
        }

        public TestDriver Driver { get; }

        public void SetAperture(ulong start, ulong end) => Geometry = new DomainGeometry(new Iova(start), new Iova(end));

        public SortedDictionary<ulong, (ulong Pa, ulong Size, IommuProt Prot)> Table { get; } = new();

        private static DomainOps CreateOps(bool pasid) => new()
        {
            AttachDev = (domain, device, old) =>
            {
                var d = (TestDomain)domain;
                d.Driver.Calls.Add($"attach {device.Pci.Name} {domain.Type}");
                return d.Driver.FailAttach.TryGetValue(device.Pci.Name, out var errno) ? errno : Errno.None;
            },
            SetDevPasid = pasid
                ? (domain, device, p, old) =>
                {
                    ((TestDomain)domain).Driver.Calls.Add($"pasid {device.Pci.Name} {p} {domain.Type}");
                    return Errno.None;
                }
                : null,
            MapPages = (IommuDomain domain, Iova iova, PhysAddr pa, ulong size, ulong count, IommuProt prot, out ulong mapped) =>
            {
                var d = (TestDomain)domain;
                d.Driver.Calls.Add($"map {iova} {pa} 0x{size:x}x{count}");
                mapped = 0;
                for (ulong i = 0; i < count; i++)
                {
                    if (!d.Table.TryAdd(iova.Value + (i * size), (pa.Value + (i * size), size, prot)))
                    {
                        return Errno.EEXIST;
                    }

                    mapped += size;
                }

                return Errno.None;
            },
            UnmapPages = (domain, iova, size, count, gather) =>
            {
                var d = (TestDomain)domain;
                d.Driver.Calls.Add($"unmap {iova} 0x{size:x}x{count}");
                ulong unmapped = 0;
                for (ulong i = 0; i < count; i++)
                {
                    if (!d.Table.Remove(iova.Value + (i * size), out var entry))
                    {
                        break;
                    }

                    gather.AddRange(new Iova(iova.Value + (i * size)), entry.Size);
                    unmapped += entry.Size;
                }

                return unmapped;
            },
            IotlbSync = (domain, gather) => ((TestDomain)domain).Driver.Calls.Add($"sync 0x{gather.Start:x}-0x{gather.End:x}"),
            IovaToPhys = (IommuDomain domain, Iova iova, out PhysAddr pa) =>
            {
                foreach (var (start, entry) in ((TestDomain)domain).Table)
                {
                    if (iova.Value >= start && iova.Value < start + entry.Size)
                    {
                        pa = new PhysAddr(entry.Pa + (iova.Value - start));
                        return true;
                    }
                }

                pa = default;
                return false;
            },
        };
    }
}
