using Ioasid.TestKit;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>
/// Runs the generator on markup source and asserts its diagnostics exactly: the formatted text (file, line, column,
/// id, message) and, through <c>[|…|]</c> markers, the span each one covers.
/// </summary>
internal static class DriverOpsDiagnosticsAssert
{
    public static void Reports(string markup, params string[] expected)
    {
        var parsed = Markup.Parse(markup);
        var result = DriverOpsHarness.Run(parsed.Source);
        if (!expected.SequenceEqual(result.FormattedGeneratorDiagnostics))
        {
            Assert.Fail("Expected:\n  " + string.Join("\n  ", expected) + "\nActual:\n  " + string.Join("\n  ", result.FormattedGeneratorDiagnostics));
        }

        var actualSpans = result.GeneratorDiagnostics.Select(d => parsed.Source[d.Location.SourceSpan.Start..d.Location.SourceSpan.End]);
        var markedSpans = parsed.Spans.Select(s => parsed.Source[s.Span.Start..s.Span.End]);
        Assert.Equal(markedSpans, actualSpans);
        Assert.Equal(parsed.Spans.Select(s => s.Span), result.GeneratorDiagnostics.Select(d => d.Location.SourceSpan));
    }

    /// <summary>Asserts the generator reports nothing and the generated code compiles without errors.</summary>
    public static GeneratorResult Silent(string source)
    {
        var result = DriverOpsHarness.Run(source);
        Assert.Empty(result.FormattedGeneratorDiagnostics);
        Assert.Empty(result.OutputErrors.Select(DiagnosticFormat.Format));
        return result;
    }
}
