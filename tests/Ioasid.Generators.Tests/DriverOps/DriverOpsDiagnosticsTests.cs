using Ioasid.Generators.DriverOps;
using Ioasid.TestKit;
using static Ioasid.Generators.Tests.DriverOps.DriverOpsDiagnosticsAssert;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>Every driver-ops diagnostic (IOAG010–IOAG017): exact text and location, and silence on correct code.</summary>
public sealed class DriverOpsDiagnosticsTests
{
    private const string Usings = DriverOpsSources.Usings;

    // The required ops of a driver, correct.
    private const string RequiredDriverOps = """
            [IommuOp(IommuOpKind.ProbeDevice)]
            private IommuUnit Probe(IommuDevice device) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.DeviceGroup)]
            private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

            [IommuOp(IommuOpKind.DomainAllocPaging)]
            private IommuDomain AllocPaging(IommuDevice device) => throw new NotSupportedException();
        """;

    // A domain class's constructor and attach_dev, correct.
    private static string DomainBody(string name) => $$"""
            public {{name}}() : base(IommuDomainType.Blocked, OpsTable) { }

            [DomainOp(DomainOpKind.AttachDev)]
            private static Errno Attach({{name}} domain, IommuDevice device, IommuDomain? old) => Errno.None;
        """;

    // ---- IOAG010: not partial ----------------------------------------------------------------------------------

    [Fact]
    public void Driver_not_partial_reports_IOAG010()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed class [|D|]
            {
            {{RequiredDriverOps}}
            }
            """,
            "Input.cs(7,23): error IOAG010: 'D' is marked [IommuDriver] and must be declared partial so the generator can add its Ops table");
    }

    [Fact]
    public void Domain_not_partial_reports_IOAG010()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed class [|Blocking|] : IommuDomain
            {
            {{DomainBody("Blocking")}}
                private static readonly DomainOps Ops = new();
            }
            """,
            "Input.cs(7,23): error IOAG010: 'Blocking' is marked [IommuDomainOps] and must be declared partial so the generator can add its Ops table");
    }

    // ---- IOAG011: required op missing --------------------------------------------------------------------------

    [Fact]
    public void Driver_without_probe_device_reports_IOAG011()
    {
        Reports(Usings + """
            [IommuDriver("d")]
            internal sealed partial class [|D|]
            {
                [IommuOp(IommuOpKind.DeviceGroup)]
                private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

                [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
                private IommuDomain Alloc(IommuDevice device, uint flags, ReadOnlySpan<byte> userData) => throw new NotSupportedException();
            }
            """,
            "Input.cs(7,31): error IOAG011: 'D' is missing the required op ProbeDevice (probe_device): mark an instance method [IommuOp(IommuOpKind.ProbeDevice)]");
    }

    [Fact]
    public void Driver_without_device_group_or_allocator_reports_IOAG011_for_each()
    {
        Reports(Usings + """
            [IommuDriver("d")]
            internal sealed partial class {|IOAG011:{|IOAG011:D|}|}
            {
                [IommuOp(IommuOpKind.ProbeDevice)]
                private IommuUnit Probe(IommuDevice device) => throw new NotSupportedException();
            }
            """,
            "Input.cs(7,31): error IOAG011: 'D' is missing the required op DeviceGroup (device_group): mark an instance method [IommuOp(IommuOpKind.DeviceGroup)]",
            "Input.cs(7,31): error IOAG011: 'D' is missing the required op DomainAllocPaging or DomainAllocPagingFlags (domain_alloc_paging[_flags]): " +
            "mark an instance method [IommuOp(IommuOpKind.DomainAllocPaging)] or [IommuOp(IommuOpKind.DomainAllocPagingFlags)]");
    }

    [Fact]
    public void Domain_without_attach_dev_reports_IOAG011()
    {
        Reports(Usings + """
            [IommuDomainOps]
            internal sealed partial class [|Blocking|] : IommuDomain
            {
                public Blocking() : base(IommuDomainType.Blocked, OpsTable) { }

                [DomainOp(DomainOpKind.SetDevPasid)]
                private static Errno SetPasid(Blocking domain, IommuDevice device, Pasid pasid, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(7,31): error IOAG011: 'Blocking' is missing the required op AttachDev (attach_dev): mark a static method [DomainOp(DomainOpKind.AttachDev)]");
    }

    [Fact]
    public void Paging_domain_without_map_unmap_and_iova_to_phys_reports_IOAG011_for_each()
    {
        Reports(Usings + $$"""
            [IommuDomainOps(Paging = true)]
            internal sealed partial class {|IOAG011:{|IOAG011:{|IOAG011:Paging|}|}|} : IommuDomain
            {
            {{DomainBody("Paging")}}
            }
            """,
            "Input.cs(7,31): error IOAG011: 'Paging' is missing the required op IovaToPhys (iova_to_phys) of a paging domain: " +
            "mark a static method [DomainOp(DomainOpKind.IovaToPhys)], or declare [IommuDomainOps(Paging = false)]",
            "Input.cs(7,31): error IOAG011: 'Paging' is missing the required op MapPages (map_pages) of a paging domain: " +
            "mark a static method [DomainOp(DomainOpKind.MapPages)], or declare [IommuDomainOps(Paging = false)]",
            "Input.cs(7,31): error IOAG011: 'Paging' is missing the required op UnmapPages (unmap_pages) of a paging domain: " +
            "mark a static method [DomainOp(DomainOpKind.UnmapPages)], or declare [IommuDomainOps(Paging = false)]");
    }

    [Fact]
    public void Non_paging_domain_needs_no_map_ops()
    {
        Silent(Usings + $$"""
            [IommuDomainOps(Paging = false)]
            internal sealed partial class Identity : IommuDomain
            {
            {{DomainBody("Identity")}}
            }
            """);
    }

    // ---- IOAG012: wrong signature ------------------------------------------------------------------------------

    [Fact]
    public void Driver_op_with_wrong_parameter_type_reports_IOAG012_with_the_expected_signature()
    {
        Reports(Usings + """
            [IommuDriver("d")]
            internal sealed partial class D
            {
                [IommuOp(IommuOpKind.ProbeDevice)]
                private IommuUnit [|Probe|](PciDevice device) => throw new NotSupportedException();

                [IommuOp(IommuOpKind.DeviceGroup)]
                private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

                [IommuOp(IommuOpKind.DomainAllocPaging)]
                private IommuDomain AllocPaging(IommuDevice device) => throw new NotSupportedException();
            }
            """,
            "Input.cs(10,23): error IOAG012: 'D.Probe' cannot be the ProbeDevice op: expected 'IommuUnit Probe(IommuDevice device)'");
    }

    [Fact]
    public void Driver_op_missing_ref_reports_IOAG012()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                [IommuOp(IommuOpKind.HwInfo)]
                private byte[] [|Info|](IommuDevice device, uint type) => [];
            }
            """,
            "Input.cs(19,20): error IOAG012: 'D.Info' cannot be the HwInfo op: expected 'byte[] Info(IommuDevice device, ref uint type)'");
    }

    [Fact]
    public void Driver_op_returning_nullable_where_the_delegate_promises_non_null_reports_IOAG012()
    {
        Reports(Usings + """
            [IommuDriver("d")]
            internal sealed partial class D
            {
                [IommuOp(IommuOpKind.ProbeDevice)]
                private IommuUnit? [|Probe|](IommuDevice device) => null;

                [IommuOp(IommuOpKind.DeviceGroup)]
                private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

                [IommuOp(IommuOpKind.DomainAllocPaging)]
                private IommuDomain AllocPaging(IommuDevice device) => throw new NotSupportedException();
            }
            """,
            "Input.cs(10,24): error IOAG012: 'D.Probe' cannot be the ProbeDevice op: expected 'IommuUnit Probe(IommuDevice device)'");
    }

    [Fact]
    public void Driver_method_for_a_property_entry_reports_IOAG012()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                [IommuOp(IommuOpKind.BlockedDomain)]
                private IommuDomain [|Blocked|]() => throw new NotSupportedException();

                [IommuOp(IommuOpKind.DefaultDomainOps)]
                private IommuOps [|DefaultOps|] => throw new NotSupportedException();
            }
            """,
            "Input.cs(19,25): error IOAG012: 'D.Blocked' cannot be the BlockedDomain op: expected a property 'IommuDomain Blocked { get; }' (IommuDomain or a class derived from it)",
            "Input.cs(22,22): error IOAG012: 'D.DefaultOps' cannot be the DefaultDomainOps op: expected a property 'DomainOps DefaultOps { get; }'");
    }

    [Fact]
    public void Domain_op_whose_first_parameter_is_another_domain_class_reports_IOAG012()
    {
        Reports(Usings + """
            internal sealed class Other : IommuDomain
            {
                public Other() : base(IommuDomainType.Blocked, new DomainOps()) { }
            }

            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
                public Blocking() : base(IommuDomainType.Blocked, OpsTable) { }

                [DomainOp(DomainOpKind.AttachDev)]
                private static Errno [|Attach|](Other domain, IommuDevice device, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(17,26): error IOAG012: 'Blocking.Attach' cannot be the AttachDev op: expected 'static Errno Attach(Blocking domain, IommuDevice device, IommuDomain? old)'");
    }

    [Fact]
    public void Domain_op_with_non_nullable_parameter_the_delegate_may_pass_null_to_reports_IOAG012()
    {
        Reports(Usings + """
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
                public Blocking() : base(IommuDomainType.Blocked, OpsTable) { }

                [DomainOp(DomainOpKind.AttachDev)]
                private static Errno [|Attach|](Blocking domain, IommuDevice device, IommuDomain old) => Errno.None;
            }
            """,
            "Input.cs(12,26): error IOAG012: 'Blocking.Attach' cannot be the AttachDev op: expected 'static Errno Attach(Blocking domain, IommuDevice device, IommuDomain? old)'");
    }

    [Fact]
    public void Domain_op_missing_out_reports_IOAG012()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
            {{DomainBody("Blocking")}}

                [DomainOp(DomainOpKind.IovaToPhys)]
                private static bool [|Walk|](Blocking domain, Iova iova, PhysAddr physical) => false;
            }
            """,
            "Input.cs(15,25): error IOAG012: 'Blocking.Walk' cannot be the IovaToPhys op: expected 'static bool Walk(Blocking domain, Iova iova, out PhysAddr physical)'");
    }

    // ---- IOAG013: duplicate op ---------------------------------------------------------------------------------

    [Fact]
    public void Driver_op_declared_twice_reports_IOAG013_on_the_second()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                [IommuOp(IommuOpKind.ProbeDevice)]
                private IommuUnit [|ProbeAgain|](IommuDevice device) => throw new NotSupportedException();
            }
            """,
            "Input.cs(19,23): error IOAG013: 'D' declares the op ProbeDevice twice: 'Probe' and 'ProbeAgain'");
    }

    [Fact]
    public void Domain_op_declared_twice_reports_IOAG013_on_the_second()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
            {{DomainBody("Blocking")}}

                [DomainOp(DomainOpKind.AttachDev)]
                private static Errno [|AttachAgain|](Blocking domain, IommuDevice device, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(15,26): error IOAG013: 'Blocking' declares the op AttachDev twice: 'Attach' and 'AttachAgain'");
    }

    // ---- IOAG014: misplaced op attribute -----------------------------------------------------------------------

    [Fact]
    public void Iommu_op_in_a_plain_class_reports_IOAG014()
    {
        Reports(Usings + """
            internal sealed class Plain
            {
                [[|IommuOp(IommuOpKind.ProbeDevice)|]]
                private IommuUnit Probe(IommuDevice device) => throw new NotSupportedException();
            }
            """,
            "Input.cs(8,6): error IOAG014: [IommuOp] on 'Plain.Probe' has no effect: 'Plain' is not marked [IommuDriver]");
    }

    [Fact]
    public void Domain_op_in_a_class_without_IommuDomainOps_reports_IOAG014()
    {
        Reports(Usings + """
            internal sealed class Unmarked : IommuDomain
            {
                public Unmarked() : base(IommuDomainType.Blocked, new DomainOps()) { }

                [[|DomainOp(DomainOpKind.AttachDev)|]]
                private static Errno Attach(Unmarked domain, IommuDevice device, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(10,6): error IOAG014: [DomainOp] on 'Unmarked.Attach' has no effect: 'Unmarked' is not marked [IommuDomainOps]");
    }

    [Fact]
    public void Domain_op_on_an_instance_method_reports_IOAG014()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
            {{DomainBody("Blocking")}}

                [DomainOp(DomainOpKind.SetDevPasid)]
                private Errno [|SetPasid|](Blocking domain, IommuDevice device, Pasid pasid, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(15,19): error IOAG014: [DomainOp] on 'Blocking.SetPasid' has no effect: " +
            "domain ops must be static methods; one table serves every domain of the class, passed as the first parameter");
    }

    [Fact]
    public void Iommu_op_on_a_static_method_reports_IOAG014()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                [IommuOp(IommuOpKind.ReleaseDevice)]
                private static void [|Release|](IommuDevice device) { }
            }
            """,
            "Input.cs(19,25): error IOAG014: [IommuOp] on 'D.Release' has no effect: driver ops must be instance members; the table calls them on the driver instance");
    }

    [Fact]
    public void Iommu_op_on_a_local_function_or_an_accessor_reports_IOAG014()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                private IommuDomain? Identity { [[|IommuOp(IommuOpKind.IdentityDomain)|]] get; }

                private void Helper()
                {
                    [[|IommuOp(IommuOpKind.ReleaseDevice)|]]
                    static void Release(IommuDevice device) { }
                }
            }
            """,
            "Input.cs(18,38): error IOAG014: [IommuOp] on 'D.Identity' has no effect: put it on the property, not on its accessor",
            "Input.cs(22,10): error IOAG014: [IommuOp] on 'Release' has no effect: local functions cannot be ops; use a method of the class");
    }

    [Fact]
    public void Iommu_op_with_an_unknown_kind_reports_IOAG014()
    {
        Reports(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}

                [IommuOp((IommuOpKind)99)]
                private void [|Future|](IommuDevice device) { }
            }
            """,
            "Input.cs(19,18): error IOAG014: [IommuOp] on 'D.Future' has no effect: 99 is not an IommuOpKind this generator knows");
    }

    // ---- IOAG015: not an IommuDomain ---------------------------------------------------------------------------

    [Fact]
    public void Domain_ops_class_not_deriving_from_IommuDomain_reports_IOAG015()
    {
        Reports(Usings + """
            [IommuDomainOps]
            internal sealed partial class [|NotADomain|]
            {
                [DomainOp(DomainOpKind.AttachDev)]
                private static Errno Attach(NotADomain domain, IommuDevice device, IommuDomain? old) => Errno.None;
            }
            """,
            "Input.cs(7,31): error IOAG015: 'NotADomain' is marked [IommuDomainOps] but does not derive from Ioasid.Core.Iommu.IommuDomain");
    }

    // ---- IOAG016: dirty ops not paired -------------------------------------------------------------------------

    [Fact]
    public void Set_dirty_tracking_without_read_and_clear_dirty_reports_IOAG016()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
            {{DomainBody("Blocking")}}

                [DomainOp(DomainOpKind.SetDirtyTracking)]
                private static Errno [|SetDirty|](Blocking domain, bool enable) => Errno.None;
            }
            """,
            "Input.cs(15,26): error IOAG016: 'Blocking' implements SetDirtyTracking (set_dirty_tracking) but not ReadAndClearDirty (read_and_clear_dirty): " +
            "the dirty-tracking ops work only as a pair");
    }

    [Fact]
    public void Read_and_clear_dirty_without_set_dirty_tracking_reports_IOAG016()
    {
        Reports(Usings + $$"""
            [IommuDomainOps]
            internal sealed partial class Blocking : IommuDomain
            {
            {{DomainBody("Blocking")}}

                [DomainOp(DomainOpKind.ReadAndClearDirty)]
                private static Errno [|ReadDirty|](Blocking domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty) => Errno.None;
            }
            """,
            "Input.cs(15,26): error IOAG016: 'Blocking' implements ReadAndClearDirty (read_and_clear_dirty) but not SetDirtyTracking (set_dirty_tracking): " +
            "the dirty-tracking ops work only as a pair");
    }

    // ---- IOAG017: unsupported type -----------------------------------------------------------------------------

    [Fact]
    public void Nested_or_generic_driver_reports_IOAG017()
    {
        Reports(Usings + $$"""
            internal static partial class Outer
            {
                [IommuDriver("d")]
                internal sealed partial class [|D|]
                {
            {{RequiredDriverOps}}
                }
            }

            [IommuDriver("g")]
            internal sealed partial class [|G|]<T>
            {
            {{RequiredDriverOps}}
            }
            """,
            "Input.cs(9,35): error IOAG017: 'D' cannot get a generated Ops table: it is nested in 'Outer'; declare it directly in a namespace",
            "Input.cs(23,31): error IOAG017: 'G' cannot get a generated Ops table: it is generic; ops tables are built for one concrete class");
    }

    [Fact]
    public void Driver_with_an_empty_name_reports_IOAG017()
    {
        Reports(Usings + $$"""
            [IommuDriver("")]
            internal sealed partial class [|D|]
            {
            {{RequiredDriverOps}}
            }
            """,
            "Input.cs(7,31): error IOAG017: 'D' cannot get a generated Ops table: the driver name given to [IommuDriver] is empty");
    }

    [Fact]
    public void Driver_without_Ioasid_Core_reports_IOAG017()
    {
        var parsed = Markup.Parse("""
            using Ioasid;

            [IommuDriver("d")]
            internal sealed partial class [|D|] { }
            """);
        var result = GeneratorHarness.Run([new DriverOpsGenerator()], [parsed.Source], DriverOpsHarness.Options with
        {
            References = TestReferences.With(typeof(IommuDriverAttribute).Assembly),
        });
        Assert.Equal(
            "Input.cs(4,31): error IOAG017: 'D' cannot get a generated Ops table: Ioasid.Core, which defines IommuOps, is not referenced",
            string.Join("\n", result.FormattedGeneratorDiagnostics));
        Assert.Equal(parsed.Spans[0].Span, result.GeneratorDiagnostics[0].Location.SourceSpan);
    }

    [Fact]
    public void Attribute_repeated_on_two_partial_declarations_generates_one_table()
    {
        // CS0579 (duplicate attribute) is the compiler's to report; the generator must not add the same file twice.
        var result = DriverOpsHarness.Run(Usings + $$"""
            [IommuDriver("d")]
            internal sealed partial class D
            {
            {{RequiredDriverOps}}
            }

            [IommuDriver("d")]
            internal sealed partial class D { }
            """);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Equal(["D.IommuOps.g.cs"], result.GeneratedSources.Select(s => s.HintName));
        Assert.Contains(result.OutputErrors, d => d.Id == "CS0579");
    }

    // ---- silent on correct code --------------------------------------------------------------------------------

    [Fact]
    public void Domain_op_may_take_a_base_class_of_the_domain()
    {
        var result = Silent(Usings + """
            internal abstract class DomainBase : IommuDomain
            {
                protected DomainBase(DomainOps ops) : base(IommuDomainType.Blocked, ops) { }
            }

            [IommuDomainOps]
            internal sealed partial class Blocking : DomainBase
            {
                public Blocking() : base(OpsTable) { }

                [DomainOp(DomainOpKind.AttachDev)]
                private static Errno Attach(DomainBase domain, IommuDevice device, IommuDomain? old) => Errno.None;

                [DomainOp(DomainOpKind.Free)]
                private static void Free(IommuDomain domain) { }
            }
            """);
        var text = result.Source("Blocking.DomainOps.g.cs");
        Assert.Contains("=> global::Blocking.Attach((global::DomainBase)domain, device, old),", text);
        Assert.Contains("=> global::Blocking.Free(domain),", text);
    }

    [Fact]
    public void Driver_in_the_global_namespace_as_a_record_with_nullable_oblivious_code()
    {
        var result = Silent(Usings + $$"""
            #nullable disable
            [IommuDriver("d")]
            internal sealed partial record D
            {
            {{RequiredDriverOps}}

                [IommuOp(IommuOpKind.ReleaseDomain)]
                private IommuDomain Release => null;
            }
            """);
        Assert.Contains("partial record D\n", result.Source("D.IommuOps.g.cs"));
    }

    [Fact]
    public void Driver_and_domain_in_separate_partial_declarations_and_files()
    {
        var result = GeneratorHarness_Run(
            Usings + """
                namespace Split;

                [IommuDriver("split")]
                internal sealed partial class D
                {
                    [IommuOp(IommuOpKind.ProbeDevice)]
                    private IommuUnit Probe(IommuDevice device) => throw new NotSupportedException();
                }
                """,
            Usings + """
                namespace Split;

                internal sealed partial class D
                {
                    [IommuOp(IommuOpKind.DeviceGroup)]
                    private IommuGroup Group(IommuDevice device) => throw new NotSupportedException();

                    [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
                    private IommuDomain Alloc(IommuDevice device, uint flags, ReadOnlySpan<byte> userData) => throw new NotSupportedException();
                }
                """);
        Assert.Empty(result.FormattedGeneratorDiagnostics);
        Assert.Empty(result.OutputErrors);
        Assert.Contains("DomainAllocPagingFlags = this.Alloc,", result.Source("Split.D.IommuOps.g.cs"));
    }

    [Fact]
    public void Plain_code_without_the_attributes_gets_nothing()
    {
        // No step records anything for such input, so the harness is not asked to find the tracking names.
        var result = GeneratorHarness.Run([new DriverOpsGenerator()], [Usings + """
            internal sealed class Plain
            {
                private IommuUnit Probe(IommuDevice device) => throw new NotSupportedException();
            }
            """], DriverOpsHarness.Options with { TrackingNames = [] });
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.GeneratedSources);
    }

    private static GeneratorResult GeneratorHarness_Run(params string[] sources) => DriverOpsHarness.Run(sources);
}
