using Ioasid.TestKit.Tests.Fixtures;
using Xunit.Sdk;

namespace Ioasid.TestKit.Tests;

public sealed class AnalyzerAssertTests
{
    [Fact]
    public async Task Passes_when_diagnostics_match_the_marked_spans()
    {
        var diagnostics = await AnalyzerAssert.VerifyAsync(new SealClassAnalyzer(), """
            public class [|Open|] { }
            public sealed class Closed { }
            public static class Helpers { }
            public abstract class Base { }
            """);

        Assert.Equal(["Input.cs(1,14): warning TK001: Class 'Open' should be sealed"], diagnostics.Select(DiagnosticFormat.Format).ToArray());
    }

    [Fact]
    public async Task Passes_with_ids_and_for_clean_code()
    {
        await AnalyzerAssert.VerifyAsync<SealClassAnalyzer>("""
            namespace N { internal class {|TK001:A|} { } internal class {|TK001:B|} { } }
            """);
        var none = await AnalyzerAssert.VerifyAsync<SealClassAnalyzer>("public sealed class Fine { }");

        Assert.Empty(none);
    }

    [Fact]
    public async Task Fails_listing_a_missing_diagnostic()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => AnalyzerAssert.VerifyAsync(new SealClassAnalyzer(), """
            public class [|Open|] { }
            public sealed class [|Closed|] { }
            """));

        Assert.Contains("Expected (2):\n  (1,14)-(1,18) (any id) 'Open'\n  (2,21)-(2,27) (any id) 'Closed'\n", error.Message, StringComparison.Ordinal);
        Assert.Contains("Actual (1):\n  (1,14)-(1,18) TK001 'Open': Class 'Open' should be sealed\n", error.Message, StringComparison.Ordinal);
        Assert.Contains("Missing (marked, not reported):\n  (2,21)-(2,27) (any id) 'Closed'\n", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unexpected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_listing_an_unexpected_diagnostic_and_shows_the_actual_markup()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => AnalyzerAssert.VerifyAsync(new SealClassAnalyzer(), """
            public class Open { }
            """));

        Assert.Contains("Unexpected (reported, not marked):\n  (1,14)-(1,18) TK001 'Open'", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Source marked with the actual diagnostics:\npublic class {|TK001:Open|} { }", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_the_id_differs()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => AnalyzerAssert.VerifyAsync(new BadMethodAnalyzer(), """
            public sealed class C { public void {|TK001:Bad|}() { } }
            """));

        Assert.Contains("Missing (marked, not reported):\n  (1,37)-(1,40) TK001 'Bad'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unexpected (reported, not marked):\n  (1,37)-(1,40) TK002 'Bad': Method 'Bad' is named Bad", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_listing_compile_errors()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => AnalyzerAssert.VerifyAsync(new SealClassAnalyzer(), """
            public sealed class C { public Missing M() => null; }
            """));

        Assert.StartsWith("The test source does not compile (1 error(s)):\n  Input.cs(1,32): error CS0246: The type or namespace name 'Missing'",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_the_analyzer_throws()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => AnalyzerAssert.VerifyAsync(new ThrowingAnalyzer(), "public sealed class C { }"));

        Assert.Contains("ThrowingAnalyzer: System.InvalidOperationException: boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extra_references_are_added_to_the_compilation()
    {
        var kit = TestReferences.FromAssembly(typeof(Snapshot).Assembly);

        await AnalyzerAssert.VerifyAsync(new SealClassAnalyzer(),
            "public class [|UsesKit|] { public string S => Ioasid.TestKit.Snapshot.DirectoryName; }", kit);
    }
}
