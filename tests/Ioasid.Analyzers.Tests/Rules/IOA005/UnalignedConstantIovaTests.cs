using Ioasid.Analyzers.CodeFixes.Rules.IOA005;
using Ioasid.Analyzers.Rules.IOA005;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA005;

/// <summary>Kernel rule: map, unmap and copy take IOVAs and lengths aligned to the IOAS alignment, at least 4 KiB.</summary>
public sealed class UnalignedConstantIovaTests
{
    private static Task Verify(string markup) => Verify<UnalignedConstantIovaAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_a_constant_IOVA_or_length_is_not_4_KiB_aligned_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(Ioas ioas, Ioas other, ulong va, IommuCore core, IommuDomain domain, MemFd file)
            {
                var a = ioas.Map(va, [|0x1800|], IoasMapFlags.ReadWrite, new Iova([|0x10800|]));
                ioas.Unmap(new Iova([|0x10010|]), 0x1000);
                ioas.Unmap(Iova.From(0x10000), [|100|]);
                var b = ioas.CopyFrom(other, new Iova([|0x2001|]), 0x1000, IoasMapFlags.Readable, iova: Iova.From([|0x3003|]));
                var c = ioas.MapFile(file, 0, [|4097|], IoasMapFlags.Readable);
                core.Map(domain, new Iova([|0x1234|]), new PhysAddr(0x5000), 0x1000, IommuProt.Read);
                core.Unmap(domain, new Iova(0x1000), [|0x800|]);
            }
        }
        """);

    [Fact]
    public Task When_values_are_aligned_or_not_constant_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(Ioas ioas, ulong va, ulong length, Iova iova, IommuCore core, IommuDomain domain)
            {
                var a = ioas.Map(va + 3, 0x2000, IoasMapFlags.ReadWrite);
                var b = ioas.Map(va, length, IoasMapFlags.ReadWrite, iova);
                ioas.Unmap(new Iova(0x200000), 2UL << 20);
                core.Map(domain, new Iova(0x1000), new PhysAddr(0x5000), 0x1000, IommuProt.Read);
                core.Unmap(domain, iova, length);
            }
        }
        """);

    [Fact]
    public Task Fix_rounds_the_IOVA_down_and_the_length_up() =>
        Verify<UnalignedConstantIovaAnalyzer>.FixAsync<UnalignedConstantIovaCodeFix>("""
            public static class Setup
            {
                public static void Run(Ioas ioas, ulong va)
                {
                    var a = ioas.Map(va, [|0x1800|], IoasMapFlags.ReadWrite, new Iova([|0x10800|]));
                    ioas.Unmap(Iova.From(0x10000), [|100|]);
                }
            }
            """, """
            public static class Setup
            {
                public static void Run(Ioas ioas, ulong va)
                {
                    var a = ioas.Map(va, 0x2000, IoasMapFlags.ReadWrite, new Iova(0x10000));
                    ioas.Unmap(Iova.From(0x10000), 4096);
                }
            }
            """);
}
