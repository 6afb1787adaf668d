using System.Reflection;
using System.Runtime.Loader;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Microsoft.CodeAnalysis;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>
/// Compiles a small driver and domain with the generator against the real Ioasid.Core, loads the assembly, and calls
/// through the generated tables: calls reach the driver's methods, tables are built once, and a call allocates nothing.
/// </summary>
public sealed class DriverOpsRuntimeTests
{
    private const string Source = DriverOpsSources.Usings + """
        namespace Runtime;

        /// <summary>The driver's one unit.</summary>
        public sealed class RuntimeUnit : IommuUnit
        {
            /// <summary>Creates the unit.</summary>
            public RuntimeUnit() : base("rt0") { }
        }

        /// <summary>A driver that counts what reaches it.</summary>
        [IommuDriver("runtime")]
        public sealed partial class RuntimeDriver
        {
            private readonly RuntimeUnit _unit = new();

            /// <summary>How many times probe_device ran.</summary>
            public int Probes { get; private set; }

            /// <summary>The static blocking domain.</summary>
            [IommuOp(IommuOpKind.BlockedDomain)]
            public RuntimeBlocked Blocked { get; } = new();

            [IommuOp(IommuOpKind.ProbeDevice)]
            private IommuUnit Probe(IommuDevice device)
            {
                Probes++;
                device.DriverData = this;
                return _unit;
            }

            [IommuOp(IommuOpKind.DeviceGroup)]
            private IommuGroup Group(IommuDevice device) => throw new InvalidOperationException("device_group reached for " + device.Pci.Name);

            [IommuOp(IommuOpKind.HwInfo)]
            private byte[] Info(IommuDevice device, ref uint type)
            {
                type = 7;
                return [1, 2, 3];
            }

            [IommuOp(IommuOpKind.DomainAllocPaging)]
            private IommuDomain Alloc(IommuDevice device) => new RuntimeDomain();
        }

        /// <summary>A paging domain that records its last mapping.</summary>
        [IommuDomainOps(Paging = true)]
        public sealed partial class RuntimeDomain : IommuDomain
        {
            /// <summary>Creates the domain.</summary>
            public RuntimeDomain() : base(IommuDomainType.Unmanaged, OpsTable) => PageSizeBitmap = 0x1000;

            /// <summary>How many times map_pages ran.</summary>
            public long MapCalls { get; private set; }

            /// <summary>The IOVA of the last map_pages.</summary>
            public ulong LastIova { get; private set; }

            /// <summary>The device of the last attach_dev.</summary>
            public IommuDevice? Attached { get; private set; }

            [DomainOp(DomainOpKind.AttachDev)]
            private static Errno Attach(RuntimeDomain domain, IommuDevice device, IommuDomain? old)
            {
                domain.Attached = device;
                return Errno.None;
            }

            [DomainOp(DomainOpKind.MapPages)]
            private static Errno Map(RuntimeDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped)
            {
                domain.MapCalls++;
                domain.LastIova = iova.Value;
                mapped = pageSize * pageCount;
                return Errno.None;
            }

            [DomainOp(DomainOpKind.UnmapPages)]
            private static ulong Unmap(RuntimeDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather)
            {
                gather.AddRange(iova, pageSize * pageCount);
                return pageSize * pageCount;
            }

            [DomainOp(DomainOpKind.IovaToPhys)]
            private static bool Walk(RuntimeDomain domain, Iova iova, out PhysAddr physical)
            {
                physical = new PhysAddr(iova.Value + 0x1_0000_0000);
                return iova.Value == domain.LastIova;
            }
        }

        /// <summary>The driver's blocking domain.</summary>
        [IommuDomainOps]
        public sealed partial class RuntimeBlocked : IommuDomain
        {
            /// <summary>Creates the domain.</summary>
            public RuntimeBlocked() : base(IommuDomainType.Blocked, OpsTable) { }

            [DomainOp(DomainOpKind.AttachDev)]
            private static Errno Attach(RuntimeBlocked domain, IommuDevice device, IommuDomain? old) => Errno.EINVAL;
        }
        """;

    private static readonly Lazy<Assembly> Compiled = new(Compile);

    [Fact]
    public void Driver_ops_reach_the_driver_methods_and_absent_ops_are_null()
    {
        var driver = NewDriver();
        var ops = OpsOf(driver);
        Assert.Equal("runtime", ops.Name);
        Assert.Same(ops, OpsOf(driver));

        var device = NewDevice(ops);
        var unit = ops.ProbeDevice(device);
        Assert.Equal("rt0", unit.Name);
        Assert.Same(driver, device.DriverData);
        Assert.Equal(1, (int)Get(driver, "Probes")!);

        var error = Assert.Throws<InvalidOperationException>(() => ops.DeviceGroup(device));
        Assert.Equal("device_group reached for ep0", error.Message);

        uint type = 0;
        Assert.Equal(new byte[] { 1, 2, 3 }, ops.HwInfo!(device, ref type));
        Assert.Equal(7u, type);

        Assert.Same(Get(driver, "Blocked"), ops.BlockedDomain);
        Assert.Null(ops.ReleaseDevice);
        Assert.Null(ops.Capable);
        Assert.Null(ops.DomainAllocPagingFlags);
        Assert.Null(ops.IdentityDomain);
        Assert.Null(ops.DefaultDomainOps);
    }

    [Fact]
    public void Domain_ops_reach_the_static_methods_with_the_domain_cast_back()
    {
        var ops = OpsOf(NewDriver());
        var device = NewDevice(ops);
        var domain = ops.DomainAllocPaging!(device);
        Assert.Same(domain.Ops, domain.GetType().GetField("OpsTable")!.GetValue(null));

        Assert.Equal(Errno.None, domain.Ops.AttachDev!(domain, device, null));
        Assert.Same(device, Get(domain, "Attached"));

        Assert.Equal(Errno.None, domain.Ops.MapPages!(domain, new Iova(0x4000), new PhysAddr(0x9000), 0x1000, 2, IommuProt.Read, out var mapped));
        Assert.Equal(0x2000ul, mapped);
        Assert.Equal(0x4000ul, (ulong)Get(domain, "LastIova")!);

        Assert.True(domain.Ops.IovaToPhys!(domain, new Iova(0x4000), out var physical));
        Assert.Equal(0x1_0000_4000ul, physical.Value);

        var gather = new IotlbGather();
        Assert.Equal(0x1000ul, domain.Ops.UnmapPages!(domain, new Iova(0x4000), 0x1000, 1, gather));
        Assert.Equal(0x4000ul, gather.Start);

        Assert.Null(domain.Ops.SetDevPasid);
        Assert.Null(domain.Ops.Free);
        Assert.False(domain.Ops.HasDirtyOps);

        var blocked = ops.BlockedDomain!;
        Assert.Equal(Errno.EINVAL, blocked.Ops.AttachDev!(blocked, device, domain));
        Assert.Null(blocked.Ops.MapPages);

        // The table's cast is the container_of of C: another class's domain is a programming error.
        Assert.Throws<InvalidCastException>(() => domain.Ops.AttachDev!(blocked, device, null));
    }

    [Fact]
    public void Calls_through_the_tables_allocate_nothing()
    {
        var driver = NewDriver();
        var ops = OpsOf(driver);
        var device = NewDevice(ops);
        var domain = ops.DomainAllocPaging!(device);
        var map = domain.Ops.MapPages!;
        var probe = ops.ProbeDevice;
        var iova = new Iova(0x10000);
        var paddr = new PhysAddr(0x20000);

        for (var i = 0; i < 1000; i++)
        {
            map(domain, iova, paddr, 0x1000, 1, IommuProt.Read | IommuProt.Write, out _);
            probe(device);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            map(domain, iova, paddr, 0x1000, 1, IommuProt.Read | IommuProt.Write, out _);
            domain.Ops.MapPages!(domain, iova, paddr, 0x1000, 1, IommuProt.Read, out _);
            probe(device);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(201_000L, (long)Get(domain, "MapCalls")!);
    }

    private static object NewDriver() => Activator.CreateInstance(Compiled.Value.GetType("Runtime.RuntimeDriver", throwOnError: true)!)!;

    private static IommuOps OpsOf(object driver) => (IommuOps)Get(driver, "Ops")!;

    private static object? Get(object target, string property) =>
        target.GetType().GetProperty(property, BindingFlags.Public | BindingFlags.Instance)!.GetValue(target);

    // The core creates devices when it probes them; its constructor is internal, so the test calls it by reflection.
    private static IommuDevice NewDevice(IommuOps ops)
    {
        var constructor = typeof(IommuDevice).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, [typeof(PciDevice), typeof(IommuOps)])!;
        return (IommuDevice)constructor.Invoke([new PciDevice(new Rid(0x10), "ep0"), ops]);
    }

    private static Assembly Compile()
    {
        var result = DriverOpsHarness.RunClean(Source);
        using var image = new MemoryStream();
        var emitted = result.OutputCompilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;

        // Ioasid.Core and Abstractions resolve from the default context, so the tables are the test's own types.
        return new AssemblyLoadContext("driver-ops-runtime-test", isCollectible: true).LoadFromStream(image);
    }
}
