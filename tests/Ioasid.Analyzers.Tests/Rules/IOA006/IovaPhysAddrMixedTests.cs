using Ioasid.Analyzers.Rules.IOA006;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA006;

/// <summary>An IOVA does not convert to a physical address: only a translation relates the two.</summary>
public sealed class IovaPhysAddrMixedTests
{
    private static Task Verify(string markup) => Verify<IovaPhysAddrMixedAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_a_raw_value_crosses_between_IOVA_and_physical_address_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(Iova iova, PhysAddr pa, IommuDomain domain)
            {
                var e = domain.Type == IommuDomainType.Identity ? default : [|new PhysAddr(iova.Value)|];
                var a = [|new PhysAddr(iova.Value)|];
                var b = [|new Iova(pa.Value)|];
                var c = [|PhysAddr.From(iova.Value + 0x1000)|];
                var d = [|new Iova((pa.Value - 4096))|];
            }
        }
        """);

    [Fact]
    public Task When_values_are_translated_or_the_code_is_an_identity_domain_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static PhysAddr Translate(Iova iova, ulong pte) => new PhysAddr((pte & ~0xFFFUL) | (iova.Value & 0xFFF));

            public static PhysAddr IdentityMap(Iova iova) => new PhysAddr(iova.Value);

            public static bool Walk(IommuDomain domain, Iova iova, out PhysAddr pa) => IommuCore.IovaToPhys(domain, iova, out pa);

            public static PhysAddr Route(IommuDomain domain, Iova iova)
            {
                if (domain.Type == IommuDomainType.Identity)
                {
                    return new PhysAddr(iova.Value);
                }

                return default;
            }
        }

        public sealed class PassThroughDomain : IommuDomain
        {
            public PassThroughDomain() : base(IommuDomainType.Identity, new DomainOps()) { }

            public static PhysAddr Translate(Iova iova) => new PhysAddr(iova.Value);
        }
        """);
}
