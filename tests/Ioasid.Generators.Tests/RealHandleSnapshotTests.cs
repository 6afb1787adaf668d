using System.Runtime.CompilerServices;
using Ioasid.Generators.Tests.Support;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.Tests;

/// <summary>
/// The generator over the real handle declarations, read from Ioasid.Abstractions/Handles/ (not copied, so the
/// snapshots follow the sources). The folder is compiled on its own with the attribute's own source and without a
/// reference to Ioasid.Abstractions, whose compiled handles would otherwise clash with these (CS0436).
/// </summary>
public sealed class RealHandleSnapshotTests
{
    private static readonly string[] HandleNames = ["DomainHandle", "IoasidId", "Iova", "Pasid", "PhysAddr", "Rid"];

    // One harness run serves all six snapshots.
    private static readonly Lazy<GeneratorResult> RealHandles = new(RunOnHandlesFolder);

    [Fact]
    public void Handles_folder_generates_one_file_per_handle_and_compiles_cleanly()
    {
        var result = RealHandles.Value;

        Gen.AssertClean(result);
        Assert.Equal(HandleNames.Select(n => $"Ioasid.{n}.g.cs"), Gen.HintNames(result));
    }

    [Fact]
    public void DomainHandle() => VerifyHandle("DomainHandle");

    [Fact]
    public void IoasidId() => VerifyHandle("IoasidId");

    [Fact]
    public void Iova() => VerifyHandle("Iova");

    [Fact]
    public void Pasid() => VerifyHandle("Pasid");

    [Fact]
    public void PhysAddr() => VerifyHandle("PhysAddr");

    [Fact]
    public void Rid() => VerifyHandle("Rid");

    private static void VerifyHandle(string name, [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        var result = RealHandles.Value;
        Gen.AssertClean(result);

        var hintName = $"Ioasid.{name}.g.cs";
        var snapshot = GeneratorHarness.FormatGeneratedSources([new GeneratedSource(hintName, result.Source(hintName))]);
        Snapshot.Verify(snapshot, "cs", callerFilePath: file, callerMemberName: member);
    }

    private static GeneratorResult RunOnHandlesFolder()
    {
        var trees = Directory.EnumerateFiles(Repo.HandlesDirectory, "*.cs")
            .Order(StringComparer.Ordinal)
            .Select(path => Repo.Parse(path, Gen.DocumentedParseOptions))
            .ToArray();
        Assert.Contains(trees, t => t.FilePath.EndsWith("/TypedHandleAttribute.cs", StringComparison.Ordinal));

        var compilation = CSharpCompilation.Create(TestCompilation.AssemblyName, trees, TestReferences.Net100, TestCompilation.Options);
        return GeneratorHarness.Run([new TypedHandleGenerator()], compilation, Gen.Documented with { References = null });
    }
}
