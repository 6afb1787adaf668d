using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.Tests.Support;

/// <summary>Runs <see cref="TypedHandleGenerator"/> through the test kit's harness with the settings every test shares.</summary>
internal static class Gen
{
    /// <summary>
    /// Parse options of the real build: Ioasid.Abstractions sets GenerateDocumentationFile, so the compiler checks
    /// doc comments there (CS1570 badly formed XML, CS1574 bad cref, CS1591 missing docs). Tests that compile
    /// generated code use the same mode, so an unescaped '&lt;' in a generated summary fails here too.
    /// </summary>
    public static CSharpParseOptions DocumentedParseOptions { get; } =
        TestCompilation.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);

    public static ImmutableArray<string> TrackingNames { get; } =
        GeneratorHarness.TrackingNamesOf(typeof(Ioasid.Generators.TrackingNames));

    /// <summary>The reference pack plus Ioasid.Abstractions, which defines the attributes.</summary>
    public static ImmutableArray<MetadataReference> References { get; } =
        TestReferences.With(typeof(TypedHandleAttribute<>).Assembly);

    /// <summary>Harness options for snapshot and behaviour tests (documentation diagnosed, as in the real build).</summary>
    public static GeneratorHarnessOptions Documented { get; } = new()
    {
        References = References,
        TrackingNames = TrackingNames,
        ParseOptions = DocumentedParseOptions,
    };

    /// <summary>Harness options for diagnostic tests: the inputs are short and undocumented, so doc comments are only parsed.</summary>
    public static GeneratorHarnessOptions Plain { get; } = new()
    {
        References = References,
        TrackingNames = TrackingNames,
    };

    /// <summary>One source, <c>Input.cs</c>, with documentation diagnosed.</summary>
    public static GeneratorResult Run(string source) =>
        GeneratorHarness.Run(new TypedHandleGenerator(), source, Documented);

    /// <summary>One undocumented source, <c>Input.cs</c>.</summary>
    public static GeneratorResult RunPlain(string source) =>
        GeneratorHarness.Run(new TypedHandleGenerator(), source, Plain);

    /// <summary>Asserts the generator reported nothing and its output compiles without any warning.</summary>
    public static void AssertClean(GeneratorResult result)
    {
        Assert.Empty(result.FormattedGeneratorDiagnostics);
        Assert.Empty(result.FormattedOutputDiagnostics);
    }

    /// <summary>The hint names of the generated files.</summary>
    public static string[] HintNames(GeneratorResult result) =>
        result.GeneratedSources.Select(s => s.HintName).ToArray();
}

/// <summary>Locates files of the repository from this test source file (so tests read the real sources, not copies).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string HandlesDirectory => Path.Combine(Root, "Ioasid.Abstractions", "Handles");

    public static string DiagnosticsDocsDirectory => Path.Combine(Root, "docs", "diagnostics");

    public static string GeneratorsDirectory => Path.Combine(Root, "Ioasid.Generators");

    /// <summary>A syntax tree of a real source file, named by its path relative to the repository root.</summary>
    public static SyntaxTree Parse(string path, CSharpParseOptions options) =>
        CSharpSyntaxTree.ParseText(File.ReadAllText(path), options, Path.GetRelativePath(Root, path).Replace('\\', '/'), Encoding.UTF8);

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        for (var dir = Path.GetDirectoryName(thisFile); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Ioasid.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"No folder above '{thisFile}' holds Ioasid.sln; tests must run from a build whose source paths exist.");
    }
}
