using System.Reflection;
using Ioasid.Analyzers.Rules.IOA001;
using Ioasid.Analyzers.Rules.IOA004;
using Ioasid.Analyzers.Tests.Support;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.Analyzers.Tests;

/// <summary>The shared base: compilations without Ioasid are skipped, and rules that need only Abstractions work without Core.</summary>
public sealed class IoasidAnalyzerTests
{
    // Look-alikes of Ioasid's names in a compilation that does not reference Ioasid: nothing may be reported.
    private const string LookAlikes = """
        namespace Ioasid
        {
            public readonly struct Pasid { public Pasid(uint value) { } }
        }

        namespace Elsewhere
        {
            public sealed class MediatedDevice { public object Parent => new object(); }

            public static class Use
            {
                public static void Run(MediatedDevice m)
                {
                    var p = new Ioasid.Pasid(0x100000);
                    object o = m;
                    System.Console.WriteLine(o is MediatedDevice);
                }
            }
        }
        """;

    public static TheoryData<string> AnalyzerNames =>
        [.. AllAnalyzers().Select(a => a.GetType().Name)];

    [Theory]
    [MemberData(nameof(AnalyzerNames))]
    public async Task When_the_compilation_does_not_reference_Ioasid_DoesNotReport(string analyzerName)
    {
        var analyzer = AllAnalyzers().Single(a => a.GetType().Name == analyzerName);
        var compilation = TestCompilation.Create(LookAlikes);
        TestCompilation.AssertNoErrors(compilation, "look-alike source");
        Assert.Empty(await AnalyzerAssert.GetDiagnosticsAsync(compilation, analyzer));
    }

    [Fact]
    public async Task When_only_Abstractions_is_referenced_handle_rules_Report_and_Core_rules_stay_quiet()
    {
        var source = """
            using Ioasid;

            public static class Use
            {
                public static readonly Pasid Tenant = new Pasid(0x100000);
            }
            """;
        var compilation = TestCompilation.Create(source, TestReferences.With(typeof(Pasid).Assembly));
        TestCompilation.AssertNoErrors(compilation, "Abstractions-only source");

        var handles = await AnalyzerAssert.GetDiagnosticsAsync(compilation, new HandleConstantOutOfRangeAnalyzer());
        Assert.Equal(["IOA004"], handles.Select(d => d.Id));
        foreach (var analyzer in AllAnalyzers().Where(a => a is not HandleConstantOutOfRangeAnalyzer))
        {
            Assert.Empty(await AnalyzerAssert.GetDiagnosticsAsync(compilation, analyzer));
        }
    }

    [Fact]
    public void Every_analyzer_derives_from_the_shared_base_and_is_sealed()
    {
        var types = typeof(IoasidAnalyzer).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .ToArray();

        Assert.Equal(9, types.Length);
        Assert.All(types, t =>
        {
            Assert.True(t.IsSealed, $"{t.Name} is not sealed");
            Assert.True(typeof(IoasidAnalyzer).IsAssignableFrom(t), $"{t.Name} does not derive from IoasidAnalyzer");
            Assert.Equal([LanguageNames.CSharp], t.GetCustomAttribute<DiagnosticAnalyzerAttribute>()!.Languages);
        });
        Assert.Contains(typeof(MediatedDeviceInIommuLayerAnalyzer), types);
    }

    private static IEnumerable<DiagnosticAnalyzer> AllAnalyzers() =>
        typeof(IoasidAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!);
}
