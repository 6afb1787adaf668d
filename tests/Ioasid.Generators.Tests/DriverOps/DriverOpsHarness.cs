using Ioasid.Generators.DriverOps;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>Runs <see cref="DriverOpsGenerator"/> through the shared harness against the real Abstractions and Core.</summary>
internal static class DriverOpsHarness
{
    /// <summary>Abstractions and Core, as a driver assembly references them.</summary>
    public static IEnumerable<MetadataReference> References { get; } =
        TestReferences.With(typeof(IommuDriverAttribute).Assembly, typeof(Ioasid.Core.Iommu.IommuOps).Assembly);

    /// <summary>XML documentation comments are checked (CS1591 and friends), as in the shipped assemblies.</summary>
    public static CSharpParseOptions DocumentedParseOptions { get; } =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static GeneratorHarnessOptions Options { get; } = new()
    {
        References = References,
        TrackingNames = GeneratorHarness.TrackingNamesOf(typeof(TrackingNames)),
        ParseOptions = DocumentedParseOptions,
    };

    public static GeneratorResult Run(params string[] sources) =>
        GeneratorHarness.Run([new DriverOpsGenerator()], sources, Options);

    /// <summary>Runs the generator and asserts it reported nothing and its output compiles without any warning.</summary>
    public static GeneratorResult RunClean(params string[] sources)
    {
        var result = Run(sources);
        AssertNone(result.FormattedGeneratorDiagnostics, "generator diagnostics");
        AssertNone(result.FormattedOutputDiagnostics, "diagnostics of the compilation with the generated code");
        return result;
    }

    private static void AssertNone(IReadOnlyCollection<string> diagnostics, string what)
    {
        if (diagnostics.Count > 0)
        {
            Assert.Fail($"Expected no {what}, got:\n  " + string.Join("\n  ", diagnostics));
        }
    }

    /// <summary>The generator's diagnostics as <c>Input.cs(l,c): error ID: message</c> lines.</summary>
    public static string[] Diagnostics(params string[] sources) => [.. Run(sources).FormattedGeneratorDiagnostics];
}
