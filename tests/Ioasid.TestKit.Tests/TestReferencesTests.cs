using Microsoft.CodeAnalysis;

namespace Ioasid.TestKit.Tests;

public sealed class TestReferencesTests
{
    [Fact]
    public void Net100_is_the_reference_pack_baked_into_the_TestKit_assembly()
    {
        Assert.EndsWith(Path.Combine("ref", "net10.0"), TestReferences.RefPackDirectory.TrimEnd('/', '\\'), StringComparison.Ordinal);
        Assert.Contains("Microsoft.NETCore.App.Ref", TestReferences.RefPackDirectory, StringComparison.Ordinal);
        Assert.True(TestReferences.Net100.Length > 100, $"only {TestReferences.Net100.Length} references");
        Assert.Contains("System.Runtime", TestReferences.Net100AssemblyNames);
        Assert.Same(TestReferences.Net100[0], TestReferences.Net100[0]);
        Assert.Equal(TestReferences.Net100, TestReferences.Net100);   // cached: same array
    }

    [Fact]
    public void Net100_compiles_code_using_the_framework()
    {
        var compilation = TestCompilation.Create("""
            using System.Collections.Generic;
            using System.Linq;
            public static class C { public static int Sum(List<int> xs) => xs.Where(x => x > 0).Sum(); }
            """);

        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Equal("Input.cs", compilation.SyntaxTrees.Single().FilePath);
    }

    [Fact]
    public void With_adds_project_assemblies_by_location_once()
    {
        var kit = typeof(Snapshot).Assembly;

        var references = TestReferences.With(kit, kit);

        Assert.Equal(TestReferences.Net100.Length + 1, references.Length);
        var added = Assert.IsAssignableFrom<PortableExecutableReference>(references[^1]);
        Assert.Equal(kit.Location, added.FilePath);
        Assert.Same(TestReferences.FromAssembly(kit), TestReferences.FromAssembly(kit));

        var compilation = TestCompilation.Create("public class UsesKit { public string Ext => Ioasid.TestKit.Snapshot.AcceptVariable; }", references);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }
}
