using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.TestKit;

/// <summary>Shared settings for in-memory test compilations (generator, analyzer and code-fix tests).</summary>
public static class TestCompilation
{
    /// <summary>Name of test compilations and workspace projects.</summary>
    public const string AssemblyName = "TestProject";

    /// <summary>Parse options: latest language version, <c>DocumentationMode.Parse</c>.</summary>
    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>Compilation options: a library with nullable reference types enabled (as the Ioasid projects).</summary>
    public static CSharpCompilationOptions Options { get; } =
        new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);

    /// <summary>File name of source <paramref name="index"/> of <paramref name="count"/>: <c>Input.cs</c> alone, else <c>Input0.cs</c>, <c>Input1.cs</c>, …</summary>
    public static string SourceFileName(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return count == 1 ? "Input.cs" : $"Input{index}.cs";
    }

    /// <summary>A compilation named <see cref="AssemblyName"/> of the sources (named by <see cref="SourceFileName"/>); default references <see cref="TestReferences.Net100"/>.</summary>
    public static CSharpCompilation Create(IEnumerable<string> sources, IEnumerable<MetadataReference>? references = null,
        CSharpParseOptions? parseOptions = null, CSharpCompilationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var texts = sources.ToArray();
        var parse = parseOptions ?? ParseOptions;
        var trees = texts.Select((text, i) => CSharpSyntaxTree.ParseText(text, parse, SourceFileName(i, texts.Length), Encoding.UTF8));
        return CSharpCompilation.Create(AssemblyName, trees, references ?? TestReferences.Net100, options ?? Options);
    }

    /// <summary>A compilation of one source file, <c>Input.cs</c>.</summary>
    public static CSharpCompilation Create(string source, IEnumerable<MetadataReference>? references = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Create([source], references);
    }

    /// <summary>Fails the test when the compilation has errors, listing them (and a context label such as "input" or "after the fix").</summary>
    public static void AssertNoErrors(Compilation compilation, string context)
    {
        ArgumentNullException.ThrowIfNull(compilation);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (errors.Length > 0)
        {
            Assert.Fail($"The {context} does not compile ({errors.Length} error(s)):\n  " + string.Join("\n  ", DiagnosticFormat.FormatAll(errors)));
        }
    }
}
