using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Ioasid.Analyzers.CodeFixes.Rules.IOA001;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Tests.Support;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.Analyzers.Tests;

/// <summary>
/// Governance of the analyzer ids (as DiagnosticDocsTests does for the generators' IOAG ids): every id has one
/// descriptor, one analyzer that supports it, a docs page that its help link targets, one release-tracking row, a page
/// that cites the design decision or kernel rule behind it, and examples that are true: the reported example produces
/// exactly the diagnostics the page shows, and the fixed example is clean.
/// </summary>
public sealed partial class DiagnosticDocsTests
{
    private const string HelpLinkPrefix = "https://github.com/ioasid/ioasid/blob/main/";

    public static TheoryData<string> DescriptorIds => [.. Descriptors.All.Select(d => d.Id)];

    [Fact]
    public void Every_id_has_one_descriptor_one_analyzer_and_a_page_and_every_page_an_id()
    {
        var ids = typeof(DiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name != nameof(DiagnosticIds.Prefix))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var descriptorFields = typeof(Descriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (Name: f.Name, Descriptor: (DiagnosticDescriptor)f.GetValue(null)!))
            .ToArray();
        var supported = Analyzers().SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Order(StringComparer.Ordinal).ToArray();
        var pages = Directory.EnumerateFiles(Repo.DiagnosticsDocsDirectory, "IOA0*.md")
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(ids, descriptorFields.Select(f => f.Descriptor.Id).Order(StringComparer.Ordinal));
        Assert.Equal(ids, Descriptors.All.Select(d => d.Id));
        Assert.All(descriptorFields, f => Assert.StartsWith(f.Descriptor.Id + "_", f.Name, StringComparison.Ordinal));
        Assert.Equal(ids, supported); // each id is supported by exactly one analyzer
        Assert.Equal(ids, pages);
    }

    [Theory]
    [MemberData(nameof(DescriptorIds))]
    public void Descriptor_has_a_docs_page_a_release_row_and_a_matching_help_link(string id)
    {
        var descriptor = Descriptors.All.Single(d => d.Id == id);
        var relativePage = $"docs/diagnostics/{id}.md";
        Assert.Equal(HelpLinkPrefix + relativePage, descriptor.HelpLinkUri);

        var page = Path.Combine(Repo.Root, relativePage);
        Assert.True(File.Exists(page), $"{id}: no docs page at {page}");
        var text = File.ReadAllText(page);
        Assert.Equal($"# {id}: {descriptor.Title}", text.Split('\n')[0].TrimEnd());
        Assert.Contains($"| Severity | {descriptor.DefaultSeverity} |", text, StringComparison.Ordinal);
        Assert.Contains($"| Category | {descriptor.Category} |", text, StringComparison.Ordinal);
        Assert.Contains($"| Reported by | `{AnalyzerOf(id).GetType().Name}` in `Ioasid.Analyzers` |", text, StringComparison.Ordinal);
        Assert.Contains($"Message: `{descriptor.MessageFormat}`", text, StringComparison.Ordinal);
        foreach (var section in new[] { "## What triggers it", "## Why", "## Example", "## How to fix" })
        {
            Assert.Contains("\n" + section + "\n", text, StringComparison.Ordinal);
        }

        // Design rules cite the design decision they enforce, usage rules the kernel rule.
        var why = text[text.IndexOf("## Why", StringComparison.Ordinal)..text.IndexOf("## Example", StringComparison.Ordinal)];
        Assert.Contains(descriptor.Category == Descriptors.Design ? "Design decision:" : "rule", why, StringComparison.Ordinal);

        // A code fix named on the page exists, and a fix that exists is named on the page.
        var fix = CodeFixes().SingleOrDefault(f => f.FixableDiagnosticIds.Contains(id));
        Assert.Contains(fix is null ? "| Code fix | none |" : $"| Code fix | `{fix.GetType().Name}`", text, StringComparison.Ordinal);

        var row = Assert.Single(ReleaseRows(), r => r.Id == id);
        Assert.Equal(descriptor.Category, row.Category);
        Assert.Equal(descriptor.DefaultSeverity.ToString(), row.Severity);
        Assert.StartsWith(AnalyzerOf(id).GetType().Name + ":", row.Notes, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DescriptorIds))]
    public async Task Docs_page_examples_show_what_the_analyzer_reports(string id)
    {
        var text = File.ReadAllText(Path.Combine(Repo.DiagnosticsDocsDirectory, id + ".md"));
        var blocks = FencedBlock().Matches(text).Select(m => (Language: m.Groups[1].Value, Body: m.Groups[2].Value)).ToArray();
        Assert.Equal(["csharp", "text", "csharp"], blocks.Select(b => b.Language));
        var (bad, expected, good) = (blocks[0].Body, blocks[1].Body, blocks[2].Body);

        var analyzer = AnalyzerOf(id);
        var badDiagnostics = await RunAsync(analyzer, bad);
        Assert.Equal(expected, string.Join("\n", DiagnosticFormat.FormatAll(badDiagnostics)));
        Assert.Empty(await RunAsync(analyzer, good));
    }

    private static async Task<ImmutableArray<Diagnostic>> RunAsync(DiagnosticAnalyzer analyzer, string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, TestCompilation.ParseOptions, "Example.cs", Encoding.UTF8);
        var compilation = CSharpCompilation.Create(TestCompilation.AssemblyName, [tree],
            TestReferences.Net100.AddRange(Source.References), TestCompilation.Options);
        TestCompilation.AssertNoErrors(compilation, "docs example");
        return await AnalyzerAssert.GetDiagnosticsAsync(compilation, analyzer);
    }

    private static DiagnosticAnalyzer AnalyzerOf(string id) => Analyzers().Single(a => a.SupportedDiagnostics.Any(d => d.Id == id));

    private static IEnumerable<DiagnosticAnalyzer> Analyzers() =>
        typeof(IoasidAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!);

    private static IEnumerable<CodeFixProvider> CodeFixes() =>
        typeof(MediatedDeviceInIommuLayerCodeFix).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<ExportCodeFixProviderAttribute>() is not null)
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!);

    private static IEnumerable<(string Id, string Category, string Severity, string Notes)> ReleaseRows() =>
        new[] { "AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md" }
            .SelectMany(name => File.ReadAllLines(Path.Combine(Repo.AnalyzersDirectory, name)))
            .Select(line => ReleaseRow().Match(line))
            .Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value));

    [GeneratedRegex(@"^```(\w+)\n(.*?)\n```$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"^(IOA\d+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*(.+)$")]
    private static partial Regex ReleaseRow();
}
