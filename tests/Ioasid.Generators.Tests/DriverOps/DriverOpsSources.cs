namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>Input sources shared by the driver-ops tests: documented, as in a shipped driver assembly.</summary>
internal static class DriverOpsSources
{
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using Ioasid;
        using Ioasid.Core.Iommu;
        using Ioasid.Core.Platform;

        """;

    /// <summary>A paging domain with every domain op, and a non-paging blocking domain with attach and PASID attach only.</summary>
    public const string Domains = Usings + """
        namespace Sample;

        /// <summary>A paging domain implementing every domain op.</summary>
        [IommuDomainOps(Paging = true)]
        public sealed partial class PagingDomain : IommuDomain
        {
            /// <summary>Creates an empty paging domain.</summary>
            public PagingDomain() : base(IommuDomainType.Unmanaged, OpsTable) => PageSizeBitmap = 0x1000;

            [DomainOp(DomainOpKind.AttachDev)]
            private static Errno Attach(PagingDomain domain, IommuDevice device, IommuDomain? old) => Errno.None;

            [DomainOp(DomainOpKind.SetDevPasid)]
            private static Errno SetPasid(PagingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) => Errno.None;

            [DomainOp(DomainOpKind.MapPages)]
            private static Errno Map(PagingDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped)
            {
                mapped = pageSize * pageCount;
                return Errno.None;
            }

            [DomainOp(DomainOpKind.UnmapPages)]
            private static ulong Unmap(PagingDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather) => pageSize * pageCount;

            [DomainOp(DomainOpKind.FlushIotlbAll)]
            private static void FlushAll(PagingDomain domain) { }

            [DomainOp(DomainOpKind.IotlbSyncMap)]
            private static Errno SyncMap(PagingDomain domain, Iova iova, ulong size) => Errno.None;

            [DomainOp(DomainOpKind.IotlbSync)]
            private static void Sync(PagingDomain domain, IotlbGather gather) => gather.Reset();

            [DomainOp(DomainOpKind.IovaToPhys)]
            private static bool IovaToPhys(PagingDomain domain, Iova iova, out PhysAddr physical)
            {
                physical = new PhysAddr(iova.Value);
                return true;
            }

            [DomainOp(DomainOpKind.EnforceCacheCoherency)]
            private static bool EnforceCoherency(PagingDomain domain) => true;

            [DomainOp(DomainOpKind.CacheInvalidateUser)]
            private static Errno InvalidateUser(PagingDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled)
            {
                handled = 0;
                return Errno.None;
            }

            [DomainOp(DomainOpKind.Free)]
            private static void Free(IommuDomain domain) { }

            [DomainOp(DomainOpKind.SetDirtyTracking)]
            private static Errno SetDirtyTracking(PagingDomain domain, bool enable) => Errno.None;

            [DomainOp(DomainOpKind.ReadAndClearDirty)]
            private static Errno ReadAndClearDirty(PagingDomain domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty) => Errno.None;
        }

        /// <summary>A static blocking domain: attach and PASID attach, nothing to map.</summary>
        [IommuDomainOps]
        public sealed partial class BlockingDomain : IommuDomain
        {
            /// <summary>Creates the blocking domain.</summary>
            public BlockingDomain() : base(IommuDomainType.Blocked, OpsTable) { }

            [DomainOp(DomainOpKind.AttachDev)]
            private static Errno Attach(BlockingDomain domain, IommuDevice device, IommuDomain? old) => Errno.None;

            [DomainOp(DomainOpKind.SetDevPasid)]
            private static Errno SetPasid(BlockingDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) => Errno.None;
        }

        /// <summary>An IOMMU unit of the sample drivers.</summary>
        public sealed class SampleUnit : IommuUnit
        {
            /// <summary>Creates the unit.</summary>
            public SampleUnit() : base("sample0") { }
        }

        """;

    /// <summary>A driver implementing every entry of <c>IommuOps</c>.</summary>
    public const string FullDriver = Usings + """
        namespace Sample;

        /// <summary>A driver implementing every op.</summary>
        [IommuDriver("sample-full")]
        public sealed partial class FullDriver
        {
            private readonly SampleUnit _unit = new();

            [IommuOp(IommuOpKind.ProbeDevice)]
            private IommuUnit Probe(IommuDevice device) => _unit;

            [IommuOp(IommuOpKind.ReleaseDevice)]
            private void Release(IommuDevice device) => device.DriverData = null;

            [IommuOp(IommuOpKind.DeviceGroup)]
            private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.Capable)]
            private bool Capable(IommuDevice device, IommuCapability capability) => capability == IommuCapability.CacheCoherency;

            [IommuOp(IommuOpKind.HwInfo)]
            private byte[] HwInfo(IommuDevice device, ref uint type)
            {
                type = 0;
                return Array.Empty<byte>();
            }

            [IommuOp(IommuOpKind.GetResvRegions)]
            private void ReservedRegions(IommuDevice device, List<ReservedRegion> regions) { }

            [IommuOp(IommuOpKind.DomainAllocPaging)]
            private IommuDomain AllocPaging(IommuDevice device) => new PagingDomain();

            [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
            private IommuDomain AllocPagingFlags(IommuDevice device, uint flags, ReadOnlySpan<byte> userData) => new PagingDomain();

            [IommuOp(IommuOpKind.DomainAllocIdentity)]
            private IommuDomain AllocIdentity(IommuDevice device) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.DomainAllocNested)]
            private IommuDomain AllocNested(IommuDevice device, IommuDomain parent, uint flags, uint dataType, ReadOnlySpan<byte> userData) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.DomainAllocSva)]
            private IommuDomain AllocSva(IommuDevice device, UserAddressSpace mm) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.IdentityDomain)]
            private IommuDomain? Identity => null;

            [IommuOp(IommuOpKind.BlockedDomain)]
            private BlockingDomain Blocked { get; } = new();

            [IommuOp(IommuOpKind.ReleaseDomain)]
            private BlockingDomain ReleaseTo => Blocked;

            [IommuOp(IommuOpKind.DefaultDomainOps)]
            private DomainOps DefaultOps => PagingDomain.OpsTable;
        }

        """;

    /// <summary>A driver with only the required ops.</summary>
    public const string MinimalDriver = Usings + """
        namespace Sample;

        /// <summary>A driver with only the required ops.</summary>
        [IommuDriver("sample-minimal")]
        public sealed partial class MinimalDriver
        {
            [IommuOp(IommuOpKind.ProbeDevice)]
            private IommuUnit Probe(IommuDevice device) => new SampleUnit();

            [IommuOp(IommuOpKind.DeviceGroup)]
            private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.DomainAllocPaging)]
            private IommuDomain AllocPaging(IommuDevice device) => new PagingDomain();
        }

        """;
}
