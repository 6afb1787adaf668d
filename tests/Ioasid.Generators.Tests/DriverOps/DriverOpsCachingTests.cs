using Ioasid.Generators.DriverOps;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>
/// Incremental behaviour beyond the harness's own checks: edits that do not change a table regenerate nothing, and an
/// edit that does regenerates only that table.
/// </summary>
public sealed class DriverOpsCachingTests
{
    private static readonly string[] ModelSteps = [TrackingNames.DriverOpsModel, TrackingNames.DomainOpsModel];

    [Fact]
    public void Unrelated_edit_leaves_every_step_cached()
    {
        var (driver, compilation) = RunOnce(DriverOpsSources.Domains, DriverOpsSources.FullDriver);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class UnrelatedType {}", DriverOpsHarness.DocumentedParseOptions, "Unrelated.cs"));
        var run = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in GeneratorHarness.TrackingNamesOf(typeof(TrackingNames)))
        {
            foreach (var reason in Reasons(run, name))
            {
                Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name} was {reason}");
            }
        }

        Assert.NotEmpty(Reasons(run, TrackingNames.DriverOpsModel));
        AssertNothingRegenerated(run);
    }

    [Fact]
    public void Editing_an_op_body_regenerates_nothing()
    {
        var (driver, compilation) = RunOnce(DriverOpsSources.Domains, DriverOpsSources.FullDriver);
        var edited = Replace(compilation, 1, DriverOpsSources.FullDriver.Replace(
            "private IommuUnit Probe(IommuDevice device) => _unit;",
            "private IommuUnit Probe(IommuDevice device)\n    {\n        device.DriverData = this;\n        return _unit;\n    }",
            StringComparison.Ordinal));
        var run = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(IncrementalStepRunReason.Unchanged, Reasons(run, TrackingNames.DriverOpsResult));   // re-parsed, same result
        foreach (var name in ModelSteps)
        {
            Assert.All(Reasons(run, name), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name} was {reason}"));
        }

        AssertNothingRegenerated(run);
    }

    [Fact]
    public void Adding_an_op_regenerates_only_that_table()
    {
        var (driver, compilation) = RunOnce(DriverOpsSources.Domains, DriverOpsSources.MinimalDriver);
        var edited = Replace(compilation, 1, DriverOpsSources.MinimalDriver.Replace(
            "    [IommuOp(IommuOpKind.DeviceGroup)]",
            "    [IommuOp(IommuOpKind.Capable)]\n    private bool Capable(IommuDevice device, IommuCapability capability) => false;\n\n    [IommuOp(IommuOpKind.DeviceGroup)]",
            StringComparison.Ordinal));
        var result = driver.RunGenerators(edited).GetRunResult();
        var run = result.Results.Single();

        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(run, TrackingNames.DriverOpsModel));
        Assert.All(Reasons(run, TrackingNames.DomainOpsModel), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Contains("Capable = this.Capable,", run.GeneratedSources.Single(s => s.HintName == "Sample.MinimalDriver.IommuOps.g.cs").SourceText.ToString());
        var regenerated = run.TrackedOutputSteps.SelectMany(p => p.Value).SelectMany(s => s.Outputs).Count(o => o.Reason != IncrementalStepRunReason.Cached);
        Assert.Equal(1, regenerated);
    }

    private static (GeneratorDriver Driver, Compilation Compilation) RunOnce(params string[] sources)
    {
        var compilation = TestCompilation.Create(sources, DriverOpsHarness.References, DriverOpsHarness.DocumentedParseOptions);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new DriverOpsGenerator().AsSourceGenerator()],
            parseOptions: DriverOpsHarness.DocumentedParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().Diagnostics);
        return (driver, compilation);
    }

    private static Compilation Replace(Compilation compilation, int index, string text)
    {
        var old = compilation.SyntaxTrees.ElementAt(index);
        Assert.NotEqual(old.ToString(), text);   // the edit must really change the file
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, DriverOpsHarness.DocumentedParseOptions, old.FilePath));
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult run, string name) =>
        run.TrackedSteps.TryGetValue(name, out var steps) ? [.. steps.SelectMany(s => s.Outputs).Select(o => o.Reason)] : [];

    private static void AssertNothingRegenerated(GeneratorRunResult run)
    {
        var outputs = run.TrackedOutputSteps.SelectMany(p => p.Value).SelectMany(s => s.Outputs).ToArray();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }
}
