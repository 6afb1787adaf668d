using Ioasid.Analyzers.Rules.IOA003;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA003;

/// <summary>Design decision: a domain holds only its I/O page table; PASID and CD tables are per device.</summary>
public sealed class PerDeviceTableInDomainTests
{
    private static Task Verify(string markup) => Verify<PerDeviceTableInDomainAnalyzer>.DiagnosticsAsync(markup);

    private const string Tables = """
        [PerDeviceTable]
        public sealed class SsidTable { }

        public sealed class VtdPasidTable { }

        public sealed class CdTable { }

        public sealed class IoPageTable { }

        public sealed class PasidTableEntry { }

        """;

    [Fact]
    public Task When_a_domain_holds_a_PASID_or_CD_table_Reports() => Verify(Tables + """
        [IommuDomainOps(Paging = true)]
        public sealed class SmmuDomain : IommuDomain
        {
            private readonly CdTable [|_cds|] = new();
            private readonly IoPageTable _pgtable = new();

            public SmmuDomain() : base(IommuDomainType.Unmanaged, new DomainOps()) { }

            public SsidTable? [|Ssids|] { get; set; }

            public Dictionary<Rid, VtdPasidTable> [|PerDevice|] { get; } = new();

            public VtdPasidTable[] [|Tables|] = [];
        }

        public class BaseDomain : IommuDomain
        {
            public BaseDomain() : base(IommuDomainType.Unmanaged, new DomainOps()) { }
        }

        public sealed class DerivedDomain : BaseDomain
        {
            internal CdTable? [|Cd|];
        }
        """);

    [Fact]
    public Task When_the_table_lives_in_per_device_data_DoesNotReport() => Verify(Tables + """
        public sealed class SmmuMaster
        {
            public CdTable Cds { get; } = new();
            public SsidTable Ssids { get; } = new();
        }

        [IommuDomainOps(Paging = true)]
        public sealed class SmmuDomain : IommuDomain
        {
            private readonly IoPageTable _pgtable = new();

            public SmmuDomain() : base(IommuDomainType.Unmanaged, new DomainOps()) { }

            public PasidTableEntry Template { get; } = new();

            public static void Attach(SmmuDomain domain, IommuDevice device)
            {
                device.DriverData ??= new SmmuMaster();
                var master = (SmmuMaster)device.DriverData;
                Console.WriteLine(master.Cds);
            }

            private static readonly VtdPasidTable SharedForTests = new();
        }
        """);
}
