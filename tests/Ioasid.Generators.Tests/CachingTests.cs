using System.Text;
using Ioasid.Generators.Tests.Support;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.Generators.Tests;

/// <summary>
/// Incremental behaviour across real edits, driven with <see cref="CSharpGeneratorDriver"/> directly (the harness
/// checks a clone and an added file on every run; these tests edit existing files): an edit elsewhere reuses the
/// model and its output, an edit to the attribute rebuilds exactly that handle, and diagnostics follow the code.
/// </summary>
public sealed class CachingTests
{
    private const string OtherSource = """
        namespace Demo;

        public static class Other
        {
            public static int Answer() => 41;
        }
        """;

    [Fact]
    public void Editing_an_unrelated_file_keeps_the_model_and_output_cached()
    {
        var session = new Session(("Handle.cs", HandleSource(max: 9)), ("Other.cs", OtherSource));
        var before = session.Run();

        var after = session.Edit("Other.cs", OtherSource.Replace("41", "42", StringComparison.Ordinal));

        // ForAttributeWithMetadataName may run the parser again on the new compilation (its equal result is then
        // Unchanged); nothing after it runs and no source is regenerated.
        AssertReasons(after, TrackingNames.TypedHandleResult, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertReasons(after, TrackingNames.TypedHandleModel, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertOutputsCached(after);
        Assert.Equal(GeneratedText(before), GeneratedText(after));
    }

    [Fact]
    public void Editing_the_handles_file_without_changing_the_handle_leaves_the_model_unchanged()
    {
        var session = new Session(("Handle.cs", HandleSource(max: 9)));
        var before = session.Run();

        // The parser runs again on the changed tree, but what it returns equals the last model: nothing is regenerated.
        var after = session.Edit("Handle.cs", "// a comment that moves the handle down a line\n" + HandleSource(max: 9));

        AssertReasons(after, TrackingNames.TypedHandleResult, IncrementalStepRunReason.Unchanged);
        AssertReasons(after, TrackingNames.TypedHandleModel, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertOutputsCached(after);
        Assert.Equal(GeneratedText(before), GeneratedText(after));
    }

    [Fact]
    public void Editing_the_attribute_modifies_the_model_and_regenerates_the_source()
    {
        var session = new Session(("Handle.cs", HandleSource(max: 9)), ("Other.cs", OtherSource));
        var before = session.Run();

        var after = session.Edit("Handle.cs", HandleSource(max: 10));

        AssertReasons(after, TrackingNames.TypedHandleResult, IncrementalStepRunReason.Modified);
        AssertReasons(after, TrackingNames.TypedHandleModel, IncrementalStepRunReason.Modified);
        Assert.Contains(Outputs(after), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("public const byte MaxRawValue = 0x9;", GeneratedText(before), StringComparison.Ordinal);
        Assert.Contains("public const byte MaxRawValue = 0xA;", GeneratedText(after), StringComparison.Ordinal);
        Assert.Contains("\"Small must lie in [0x3, 0xA].\"", GeneratedText(after), StringComparison.Ordinal);
        Assert.Empty(session.Output!.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Editing_one_handle_leaves_the_other_handles_model_cached()
    {
        var session = new Session(("Handle.cs", HandleSource(max: 9)), ("Pasid.cs", """
            using Ioasid;

            namespace Demo;

            [TypedHandle<uint>(Max = 0xFFFFF)]
            public readonly partial struct Pasid;
            """));
        session.Run();

        var after = session.Edit("Handle.cs", HandleSource(max: 10));

        var models = Step(after, TrackingNames.TypedHandleModel).SelectMany(s => s.Outputs).ToArray();
        Assert.Equal(2, models.Length);
        Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified && ((TypedHandleModel)o.Value).Name == "Small");
        Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Cached && ((TypedHandleModel)o.Value).Name == "Pasid");
    }

    [Fact]
    public void Diagnostics_follow_edits_and_disappear_when_fixed()
    {
        var invalid = """
            using Ioasid;

            namespace Demo;

            [TypedHandle<byte>(Min = 3, Max = 300)]
            public readonly partial struct Small;
            """;
        var session = new Session(("Handle.cs", invalid), ("Other.cs", OtherSource));

        Assert.Equal(["Handle.cs(5,2): error IOAG003: Typed handle 'Small' declares the range [0x3, 0x12C], which is empty or does not fit in 'byte'"],
            Diagnostics(session.Run()));

        // Moving the declaration down must move the diagnostic: a cached location would point at the old line.
        var moved = session.Edit("Handle.cs", "\n\n" + invalid);
        AssertReasons(moved, TrackingNames.TypedHandleResult, IncrementalStepRunReason.Modified);
        Assert.Equal(["Handle.cs(7,2): error IOAG003: Typed handle 'Small' declares the range [0x3, 0x12C], which is empty or does not fit in 'byte'"],
            Diagnostics(moved));
        Assert.Empty(moved.GeneratedTrees);

        // An unrelated edit keeps reporting it.
        var unrelated = session.Edit("Other.cs", OtherSource.Replace("41", "43", StringComparison.Ordinal));
        Assert.Single(Diagnostics(unrelated));

        var fixedRun = session.Edit("Handle.cs", HandleSource(max: 9));
        Assert.Empty(Diagnostics(fixedRun));
        Assert.Single(fixedRun.GeneratedTrees);
    }

    private static string HandleSource(int max) => $$"""
        using Ioasid;

        namespace Demo;

        [TypedHandle<byte>(Min = 3, Max = {{max}})]
        public readonly partial struct Small;
        """;

    private static IEnumerable<IncrementalGeneratorRunStep> Step(GeneratorDriverRunResult run, string name) =>
        run.Results.Single().TrackedSteps.TryGetValue(name, out var steps) ? steps : [];

    private static void AssertReasons(GeneratorDriverRunResult run, string name, params IncrementalStepRunReason[] allowed)
    {
        var outputs = Step(run, name).SelectMany(s => s.Outputs).ToArray();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Contains(o.Reason, allowed));
    }

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriverRunResult run) =>
        run.Results.Single().TrackedOutputSteps.Values.SelectMany(steps => steps).SelectMany(s => s.Outputs);

    private static void AssertOutputsCached(GeneratorDriverRunResult run)
    {
        var outputs = Outputs(run).ToArray();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    private static string GeneratedText(GeneratorDriverRunResult run) =>
        string.Join("\n", run.Results.Single().GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText));

    private static string[] Diagnostics(GeneratorDriverRunResult run) => DiagnosticFormat.FormatAll(run.Diagnostics).ToArray();

    /// <summary>A compilation and a driver that keeps its state between edits, as the IDE's does.</summary>
    private sealed class Session
    {
        private GeneratorDriver _driver = CSharpGeneratorDriver.Create(
            [new TypedHandleGenerator().AsSourceGenerator()],
            parseOptions: TestCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        private CSharpCompilation _input;

        public Session(params (string Path, string Text)[] files)
        {
            var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Text, TestCompilation.ParseOptions, f.Path, Encoding.UTF8));
            _input = CSharpCompilation.Create(TestCompilation.AssemblyName, trees, Gen.References, TestCompilation.Options);
        }

        /// <summary>The input of the last run with the generated trees added.</summary>
        public Compilation? Output { get; private set; }

        public GeneratorDriverRunResult Run()
        {
            _driver = _driver.RunGeneratorsAndUpdateCompilation(_input, out var output, out _);
            Output = output;
            return _driver.GetRunResult();
        }

        public GeneratorDriverRunResult Edit(string path, string newText)
        {
            var tree = _input.SyntaxTrees.Single(t => t.FilePath == path);
            _input = _input.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(newText, Encoding.UTF8)));
            return Run();
        }
    }
}
