using Ioasid.TestKit.Tests.Fixtures;
using Xunit.Sdk;

namespace Ioasid.TestKit.Tests;

public sealed class CodeFixAssertTests
{
    [Fact]
    public async Task Applies_the_first_action_and_checks_the_result()
    {
        await CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            """
            namespace N
            {
                public class [|Open|] { }
            }
            """,
            """
            namespace N
            {
                public sealed class Open { }
            }
            """);
    }

    [Fact]
    public async Task Fixes_every_marked_diagnostic_and_normalises_line_endings()
    {
        await CodeFixAssert.VerifyAsync<SealClassAnalyzer, SealClassCodeFix>(
            "public class {|TK001:A|} { }\r\ninternal class {|TK001:B|} { }\r\n",
            "public sealed class A { }\ninternal sealed class B { }\n");
    }

    [Fact]
    public async Task Applies_the_action_with_the_given_title()
    {
        await CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            "public class [|Open|] { }", "public static class Open { }", SealClassCodeFix.StaticTitle);
    }

    [Fact]
    public async Task Fails_with_a_diff_when_the_result_differs()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            "public class [|Open|] { }\npublic sealed class Other { }", "public sealed class Open { }\npublic sealed class Renamed { }"));

        Assert.Contains("The fixed code differs from the expected code:\n--- expected (after)\n+++ actual (fixed)\n", error.Message, StringComparison.Ordinal);
        Assert.Contains("-public sealed class Renamed { }\n+public sealed class Other { }\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_the_diagnostic_remains_after_the_fix()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new UselessCodeFix(),
            "public class [|Open|] { }", "// touched\npublic class Open { }"));

        Assert.Contains("The analyzer still reports fixed ids after the fix:\n  Input.cs(2,14): warning TK001: Class 'Open' should be sealed",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_no_action_has_the_title()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            "public class [|Open|] { }", "public sealed class Open { }", "Make it pink"));

        Assert.Contains("No code action titled 'Make it pink' was registered", error.Message, StringComparison.Ordinal);
        Assert.Contains("Registered: ['Seal class', 'Make class static']", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_the_markup_does_not_match_before_fixing()
    {
        var error = await Assert.ThrowsAsync<FailException>(() => CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            "public class Open { }", "public sealed class Open { }"));

        Assert.Contains("Analyzer diagnostics do not match the markup.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fails_when_the_fixed_code_does_not_compile()
    {
        // Making a class with an instance member static does not compile.
        var error = await Assert.ThrowsAsync<FailException>(() => CodeFixAssert.VerifyAsync(new SealClassAnalyzer(), new SealClassCodeFix(),
            "public class [|Open|] { public int X; }", "public static class Open { public int X; }", SealClassCodeFix.StaticTitle));

        Assert.Contains("The fixed code does not compile", error.Message, StringComparison.Ordinal);
        Assert.Contains("error CS0708", error.Message, StringComparison.Ordinal);
    }
}
