using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Ioasid.Generators.Diagnostics;
using Ioasid.Generators.Tests.Support;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.Tests;

/// <summary>
/// Every descriptor has a docs page (the target of its help link), a release-tracking row, and a page whose
/// examples are true: the bad example produces exactly the diagnostics the page shows, the fixed one is clean.
/// This covers the typed-handle ids (IOAG001–IOAG009); the driver-ops ids have their own checks in DriverOps/.
/// </summary>
public sealed partial class DiagnosticDocsTests
{
    private const string HelpLinkPrefix = "https://github.com/ioasid/ioasid/blob/main/";

    public static TheoryData<string> DescriptorIds => [.. Descriptors().Select(d => d.Id)];

    [Fact]
    public void Every_id_has_one_descriptor_and_every_page_a_descriptor()
    {
        var ids = typeof(DiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name.StartsWith("Handle", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var descriptorIds = Descriptors().Select(d => d.Id).Order(StringComparer.Ordinal).ToArray();
        var pages = Directory.EnumerateFiles(Repo.DiagnosticsDocsDirectory, "IOAG00*.md")
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(["IOAG001", "IOAG002", "IOAG003", "IOAG004", "IOAG005", "IOAG006"], descriptorIds);
        Assert.Equal(ids, descriptorIds);
        Assert.Equal(descriptorIds, pages);
    }

    [Theory]
    [MemberData(nameof(DescriptorIds))]
    public void Descriptor_has_a_docs_page_a_release_row_and_a_matching_help_link(string id)
    {
        var descriptor = Descriptors().Single(d => d.Id == id);
        var relativePage = $"docs/diagnostics/{id}.md";

        Assert.EndsWith(relativePage, descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.Equal(HelpLinkPrefix + relativePage, descriptor.HelpLinkUri);

        var page = Path.Combine(Repo.Root, relativePage);
        Assert.True(File.Exists(page), $"{id}: no docs page at {page}");
        var text = File.ReadAllText(page);
        Assert.Equal($"# {id}: {descriptor.Title}", text.Split('\n')[0].TrimEnd());
        Assert.Contains($"| Severity | {descriptor.DefaultSeverity} ", text, StringComparison.Ordinal);
        Assert.Contains($"| Category | {descriptor.Category} |", text, StringComparison.Ordinal);
        Assert.Contains($"Message: `{descriptor.MessageFormat}`", text, StringComparison.Ordinal);
        foreach (var section in new[] { "## What triggers it", "## Why", "## Example", "## How to fix" })
        {
            Assert.Contains("\n" + section + "\n", text, StringComparison.Ordinal);
        }

        // The design aim every page cites.
        Assert.Contains("a `Pasid` can never be passed where a `Rid` is meant", text, StringComparison.Ordinal);

        var rows = ReleaseRows().Where(r => r.Id == id).ToArray();
        var row = Assert.Single(rows);
        Assert.Equal(descriptor.Category, row.Category);
        Assert.Equal(descriptor.DefaultSeverity.ToString(), row.Severity);
    }

    [Theory]
    [MemberData(nameof(DescriptorIds))]
    public void Docs_page_examples_show_what_the_generator_does(string id)
    {
        var text = File.ReadAllText(Path.Combine(Repo.DiagnosticsDocsDirectory, id + ".md"));
        var blocks = FencedBlock().Matches(text).Select(m => (Language: m.Groups[1].Value, Body: m.Groups[2].Value)).ToArray();
        Assert.Equal(["csharp", "text", "csharp"], blocks.Select(b => b.Language));
        var (bad, expected, good) = (blocks[0].Body, blocks[1].Body.Split('\n'), blocks[2].Body);

        var file = expected[0][..expected[0].IndexOf('(', StringComparison.Ordinal)];
        var badResult = Run(bad, file);
        Assert.Equal(string.Join("\n", expected), string.Join("\n", badResult.FormattedGeneratorDiagnostics));
        Assert.All(badResult.GeneratorDiagnostics, d => Assert.Equal(id, d.Id));
        Assert.Empty(badResult.GeneratedSources);

        var goodResult = Run(good, file);
        Gen.AssertClean(goodResult);
        Assert.NotEmpty(goodResult.GeneratedSources);
    }

    private static GeneratorResult Run(string source, string path)
    {
        var tree = CSharpSyntaxTree.ParseText(source, Gen.DocumentedParseOptions, path, Encoding.UTF8);
        var compilation = CSharpCompilation.Create(TestCompilation.AssemblyName, [tree], Gen.References, TestCompilation.Options);
        return GeneratorHarness.Run([new TypedHandleGenerator()], compilation, Gen.Documented);
    }

    private static DiagnosticDescriptor[] Descriptors() =>
        typeof(GeneratorDiagnostics).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor) && f.Name.StartsWith("IOAG00", StringComparison.Ordinal))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();

    private static IEnumerable<(string Id, string Category, string Severity)> ReleaseRows() =>
        new[] { "AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md" }
            .SelectMany(name => File.ReadAllLines(Path.Combine(Repo.GeneratorsDirectory, name)))
            .Select(line => ReleaseRow().Match(line))
            .Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));

    [GeneratedRegex(@"^```(\w+)\n(.*?)\n```$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"^(IOAG\d+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|")]
    private static partial Regex ReleaseRow();
}
