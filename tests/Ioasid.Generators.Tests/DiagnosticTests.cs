using Ioasid.Generators.Tests.Support;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;

namespace Ioasid.Generators.Tests;

/// <summary>
/// IOAG001–IOAG006 with their exact text and position. A handle with a diagnostic gets no generated source (so the
/// user sees one clear error instead of a cascade of compiler errors in generated code), while a valid handle in
/// the same compilation is still completed, and the output compiles.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Good = """

        [TypedHandle<uint>]
        public readonly partial struct Good;
        """;

    [Fact]
    public void IOAG001_handle_not_partial()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            [TypedHandle<uint>]
            public readonly struct Rid;
            """ + Good);

        AssertDiagnostics(result,
            ["Input.cs(6,24): error IOAG001: Typed handle 'Rid' must be declared partial so the generator can complete it"]);
        AssertOnlyGoodGenerated(result);
    }

    [Theory]
    [InlineData("int", "int")]
    [InlineData("long", "long")]
    [InlineData("char", "char")]
    [InlineData("sbyte", "sbyte")]
    [InlineData("short", "short")]
    [InlineData("nuint", "nuint")]
    [InlineData("double", "double")]
    [InlineData("System.Guid", "Guid")]
    [InlineData("Raw", "Raw")]
    public void IOAG002_unsupported_underlying_type(string type, string shown)
    {
        var result = Gen.RunPlain($$"""
            using Ioasid;

            namespace Demo;

            public struct Raw { public uint Bits; }

            [TypedHandle<{{type}}>]
            public readonly partial struct Bad;
            """ + Good);

        AssertDiagnostics(result,
            [$"Input.cs(7,2): error IOAG002: Typed handle 'Bad' cannot wrap '{shown}': use byte, ushort, uint or ulong"]);
        AssertOnlyGoodGenerated(result);
    }

    [Theory]
    [InlineData("uint", "Min = 10, Max = 5", "[0xA, 0x5]", "uint")]                 // Min > Max
    [InlineData("byte", "Max = 256", "[0x0, 0x100]", "byte")]                      // Max beyond the type
    [InlineData("ushort", "Min = 0x10000", "[0x10000, 0xFFFF]", "ushort")]          // Min beyond the type
    [InlineData("uint", "Max = 0x1_0000_0000", "[0x0, 0x100000000]", "uint")]
    [InlineData("uint", "Max = ulong.MaxValue", "[0x0, 0xFFFFFFFFFFFFFFFF]", "uint")] // the attribute's default, but written out
    public void IOAG003_invalid_range(string type, string arguments, string range, string shown)
    {
        var result = Gen.RunPlain($$"""
            using Ioasid;

            namespace Demo;

            [TypedHandle<{{type}}>({{arguments}})]
            public readonly partial struct Bad;
            """ + Good);

        AssertDiagnostics(result,
            [$"Input.cs(5,2): error IOAG003: Typed handle 'Bad' declares the range {range}, which is empty or does not fit in '{shown}'"]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void IOAG004_constant_out_of_range()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            [TypedHandle<uint>(Min = 1, Max = 0xFFFFF)]
            [HandleConstant("Zero", 0)]
            [HandleConstant("One", 1)]
            [HandleConstant("Last", 0xFFFFF)]
            [HandleConstant("TooBig", 0x100000)]
            public readonly partial struct Bad;
            """ + Good);

        AssertDiagnostics(result,
            [
                "Input.cs(6,2): error IOAG004: Constant 'Zero' of typed handle 'Bad' has value 0x0, outside the range [0x1, 0xFFFFF]",
                "Input.cs(9,2): error IOAG004: Constant 'TooBig' of typed handle 'Bad' has value 0x100000, outside the range [0x1, 0xFFFFF]",
            ]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void IOAG005_handle_nested_in_a_class()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            public static partial class Registers
            {
                [TypedHandle<uint>]
                public readonly partial struct Inner;
            }
            """ + Good);

        AssertDiagnostics(result,
            ["Input.cs(8,36): error IOAG005: Typed handle 'Inner' is nested in 'Registers'; declare it directly in a namespace"]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void IOAG005_names_the_innermost_container()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            public partial class Outer
            {
                public partial struct Middle
                {
                    [TypedHandle<ushort>]
                    internal partial struct Inner;
                }
            }
            """ + Good);

        AssertDiagnostics(result,
            ["Input.cs(10,33): error IOAG005: Typed handle 'Inner' is nested in 'Middle'; declare it directly in a namespace"]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void IOAG006_duplicate_constant()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            [TypedHandle<uint>(Max = 10)]
            [HandleConstant("Zero", 0)]
            [HandleConstant("Zero", 0)]
            [HandleConstant("One", 1)]
            [HandleConstant("Zero", 99)]
            public readonly partial struct Bad;
            """ + Good);

        // The third "Zero" is also out of range, but a duplicate is reported as a duplicate only.
        AssertDiagnostics(result,
            [
                "Input.cs(7,2): error IOAG006: Typed handle 'Bad' declares the constant 'Zero' more than once",
                "Input.cs(9,2): error IOAG006: Typed handle 'Bad' declares the constant 'Zero' more than once",
            ]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void All_problems_of_one_handle_are_reported_together()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            public partial class Outer
            {
                [TypedHandle<byte>(Min = 5, Max = 3)]
                [HandleConstant("A", 1)]
                [HandleConstant("A", 2)]
                public readonly struct Bad;
            }
            """ + Good);

        AssertDiagnostics(result,
            [
                "Input.cs(7,6): error IOAG003: Typed handle 'Bad' declares the range [0x5, 0x3], which is empty or does not fit in 'byte'",
                "Input.cs(8,6): error IOAG004: Constant 'A' of typed handle 'Bad' has value 0x1, outside the range [0x5, 0x3]",
                "Input.cs(9,6): error IOAG006: Typed handle 'Bad' declares the constant 'A' more than once",
                "Input.cs(10,28): error IOAG001: Typed handle 'Bad' must be declared partial so the generator can complete it",
                "Input.cs(10,28): error IOAG005: Typed handle 'Bad' is nested in 'Outer'; declare it directly in a namespace",
            ]);
        AssertOnlyGoodGenerated(result);
    }

    [Fact]
    public void Diagnostics_are_errors_with_help_links()
    {
        var result = Gen.RunPlain("""
            using Ioasid;

            namespace Demo;

            [TypedHandle<int>]
            public readonly struct Bad;
            """);

        Assert.Equal(["IOAG001", "IOAG002"], result.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.All(result.GeneratorDiagnostics, d =>
        {
            Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Error, d.Severity);
            Assert.Equal($"https://github.com/ioasid/ioasid/blob/main/docs/diagnostics/{d.Id}.md", d.Descriptor.HelpLinkUri);
            Assert.Equal("Input.cs", d.Location.GetLineSpan().Path);
        });
        Assert.Empty(result.GeneratedSources);
    }

    [Theory]
    [InlineData("[TypedHandle<byte>]")]
    [InlineData("[TypedHandle<byte>(Max = 255)]")]                           // the type's own maximum, written out
    [InlineData("[TypedHandle<ushort>(Min = 7, Max = 7)]")]                  // a one-value range
    [InlineData("[TypedHandle<uint>(Min = 1, Max = 0x7FFFFFFF)]")]
    [InlineData("[TypedHandle<ulong>(Min = ulong.MaxValue)]")]
    [InlineData("[TypedHandle<ulong>(Max = ulong.MaxValue, Format = HandleFormat.Hex)]")]
    [InlineData("[TypedHandleAttribute<System.UInt32>]")]
    [InlineData("[Ioasid.TypedHandle<uint>(Format = Ioasid.HandleFormat.Decimal)]")]
    [InlineData("[TypedHandle<byte>(Min = 3, Max = 9), HandleConstant(\"Low\", 3), HandleConstant(\"High\", 9)]")]
    public void Valid_declarations_are_silent(string attributes)
    {
        var result = Gen.RunPlain($$"""
            using Ioasid;

            namespace Demo;

            {{attributes}}
            public readonly partial struct Handle;
            """);

        Gen.AssertClean(result);
        Assert.Equal(["Demo.Handle.g.cs"], Gen.HintNames(result));
    }

    [Fact]
    public void Types_without_the_attribute_are_ignored()
    {
        // No step runs at all, so the harness is told not to expect any tracking name.
        var result = GeneratorHarness.Run(new TypedHandleGenerator(), """
            namespace Other
            {
                [System.AttributeUsage(System.AttributeTargets.Struct)]
                public sealed class TypedHandleAttribute<T> : System.Attribute { }
            }

            namespace Demo
            {
                [Other.TypedHandle<uint>]
                public readonly partial struct LooksLikeAHandle;

                [System.Serializable]
                public readonly partial struct Plain;

                [Ioasid.HandleConstant("Orphan", 1)]
                public readonly struct ConstantOnly;
            }
            """, Gen.Plain with { TrackingNames = [] });

        Gen.AssertClean(result);
        Assert.Empty(result.GeneratedSources);
    }

    /// <summary>Compares whole lines, so a failure shows the full text of every diagnostic.</summary>
    private static void AssertDiagnostics(GeneratorResult result, string[] expected) =>
        Assert.Equal(string.Join("\n", expected), string.Join("\n", result.FormattedGeneratorDiagnostics));

    private static void AssertOnlyGoodGenerated(GeneratorResult result)
    {
        Assert.Equal(["Demo.Good.g.cs"], Gen.HintNames(result));
        Assert.Empty(result.FormattedOutputDiagnostics);
    }
}
