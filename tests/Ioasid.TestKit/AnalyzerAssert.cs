using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.TestKit;

/// <summary>
/// Analyzer assertions over markup source (substitute for <c>CSharpAnalyzerVerifier&lt;TAnalyzer&gt;.VerifyAnalyzerAsync</c>):
/// <c>[|…|]</c> marks where a diagnostic of the analyzer is expected, <c>{|ID:…|}</c> one with that id. The source
/// must compile; the analyzer's diagnostics must match the marked spans exactly (none missing, none extra).
/// </summary>
public static class AnalyzerAssert
{
    /// <summary>Verifies a new <typeparamref name="TAnalyzer"/> against the markup.</summary>
    public static Task<ImmutableArray<Diagnostic>> VerifyAsync<TAnalyzer>(string markup, params MetadataReference[] extraReferences)
        where TAnalyzer : DiagnosticAnalyzer, new()
        => VerifyAsync(new TAnalyzer(), markup, extraReferences);

    /// <summary>
    /// Strips the markup, compiles <c>Input.cs</c> against <see cref="TestReferences.Net100"/> plus
    /// <paramref name="extraReferences"/> (fails on compile errors), runs the analyzer and asserts its diagnostics
    /// equal the marked spans (and ids where given). Returns the analyzer's diagnostics, sorted, for further asserts.
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> VerifyAsync(DiagnosticAnalyzer analyzer, string markup, params MetadataReference[] extraReferences)
    {
        ArgumentNullException.ThrowIfNull(analyzer);
        ArgumentNullException.ThrowIfNull(markup);
        ArgumentNullException.ThrowIfNull(extraReferences);

        var parsed = Markup.Parse(markup);
        var compilation = TestCompilation.Create(parsed.Source, TestReferences.Net100.AddRange(extraReferences));
        TestCompilation.AssertNoErrors(compilation, "test source");
        var diagnostics = await GetDiagnosticsAsync(compilation, analyzer).ConfigureAwait(false);
        AssertMatchesMarkup(parsed, diagnostics);
        return diagnostics;
    }

    /// <summary>Runs the analyzer on the compilation, fails on analyzer exceptions, and returns its diagnostics sorted.</summary>
    public static async Task<ImmutableArray<Diagnostic>> GetDiagnosticsAsync(Compilation compilation, DiagnosticAnalyzer analyzer)
    {
        ArgumentNullException.ThrowIfNull(compilation);
        ArgumentNullException.ThrowIfNull(analyzer);

        var exceptions = new ConcurrentQueue<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (exception, failed, _) => exceptions.Enqueue($"{failed.GetType().Name}: {exception}"),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false,
            reportSuppressedDiagnostics: false);
        var diagnostics = await compilation.WithAnalyzers([analyzer], options).GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
        if (!exceptions.IsEmpty)
        {
            Assert.Fail("The analyzer threw:\n" + string.Join("\n", exceptions));
        }

        var failures = diagnostics.Where(d => d.Id == "AD0001").ToArray();
        if (failures.Length > 0)
        {
            Assert.Fail("The analyzer failed:\n  " + string.Join("\n  ", DiagnosticFormat.FormatAll(failures)));
        }

        return DiagnosticFormat.Sort(diagnostics);
    }

    /// <summary>
    /// Asserts the diagnostics correspond one-to-one to the marked spans (a span without id matches any id).
    /// On failure lists expected and actual with (line,col) positions and the source re-marked with the actual diagnostics.
    /// </summary>
    public static void AssertMatchesMarkup(ParsedMarkup expected, IEnumerable<Diagnostic> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);

        var actualList = DiagnosticFormat.Sort(actual);
        var unmatched = actualList.ToList();
        var missing = new List<MarkedSpan>();

        // Spans with an id first, so an id-less span cannot take the diagnostic an id-ed one needs.
        foreach (var span in expected.Spans.OrderBy(s => s.Id is null))
        {
            var match = unmatched.FirstOrDefault(d => d.Location.IsInSource && d.Location.SourceSpan == span.Span && (span.Id is null || d.Id == span.Id));
            if (match is null)
            {
                missing.Add(span);
            }
            else
            {
                unmatched.Remove(match);
            }
        }

        if (missing.Count == 0 && unmatched.Count == 0)
        {
            return;
        }

        var text = SourceText.From(expected.Source);
        var sb = new StringBuilder();
        sb.Append("Analyzer diagnostics do not match the markup.\n");
        sb.Append(CultureInfo.InvariantCulture, $"Expected ({expected.Spans.Length}):\n");
        foreach (var span in expected.Spans)
        {
            sb.Append("  ").Append(Describe(text, span)).Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"Actual ({actualList.Length}):\n");
        foreach (var diagnostic in actualList)
        {
            sb.Append("  ").Append(Describe(diagnostic)).Append('\n');
        }

        if (missing.Count > 0)
        {
            sb.Append("Missing (marked, not reported):\n");
            foreach (var span in missing)
            {
                sb.Append("  ").Append(Describe(text, span)).Append('\n');
            }
        }

        if (unmatched.Count > 0)
        {
            sb.Append("Unexpected (reported, not marked):\n");
            foreach (var diagnostic in unmatched)
            {
                sb.Append("  ").Append(Describe(diagnostic)).Append('\n');
            }
        }

        var actualMarkup = Markup.Render(expected.Source,
            actualList.Where(d => d.Location.IsInSource).Select(d => new MarkedSpan(d.Location.SourceSpan, d.Id)));
        sb.Append("Source marked with the actual diagnostics:\n").Append(actualMarkup);
        Assert.Fail(sb.ToString());
    }

    private static string Describe(SourceText text, MarkedSpan span)
    {
        var position = text.Lines.GetLinePositionSpan(span.Span);
        return $"{Position(position)} {span.Id ?? "(any id)"} '{Excerpt(text.ToString(span.Span))}'";
    }

    private static string Describe(Diagnostic diagnostic)
    {
        var location = diagnostic.Location.IsInSource ? Position(diagnostic.Location.GetLineSpan().Span) : "(no location)";
        var excerpt = diagnostic.Location.IsInSource ? $" '{Excerpt(diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan))}'" : string.Empty;
        return $"{location} {diagnostic.Id}{excerpt}: {diagnostic.GetMessage(CultureInfo.InvariantCulture)}";
    }

    // 1-based (line,col)-(line,col), as the compiler prints positions.
    private static string Position(LinePositionSpan span)
        => $"({span.Start.Line + 1},{span.Start.Character + 1})-({span.End.Line + 1},{span.End.Character + 1})";

    private static string Excerpt(string text)
    {
        var oneLine = text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return oneLine.Length > 60 ? oneLine[..60] + "…" : oneLine;
    }
}
