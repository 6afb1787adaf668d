using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.TestKit;

/// <summary>
/// Runs incremental generators the way Microsoft.CodeAnalysis.SourceGenerators.Testing and
/// NetEscapades.EnumGenerators' <c>TestHelpers</c> do, and proves their caching on every run:
/// <list type="number">
/// <item>the driver runs twice, the second time on <see cref="CSharpCompilation.Clone"/>; every step named in
/// <see cref="GeneratorHarnessOptions.TrackingNames"/> must produce equal outputs with reason <c>Cached</c>/<c>Unchanged</c>,
/// and every tracked output step must be <c>Cached</c>;</item>
/// <item>each named step's outputs must not be or contain <see cref="ISymbol"/>, <see cref="SyntaxNode"/>,
/// <see cref="Compilation"/>, <see cref="SemanticModel"/>, <see cref="Location"/>, <see cref="SyntaxTree"/> (see <see cref="ModelGraph"/>);</item>
/// <item>optionally (<see cref="GeneratorHarnessOptions.CheckUnrelatedEdit"/>, on by default) after adding
/// <c>class UnrelatedType {}</c> the named steps are still <c>Cached</c>/<c>Unchanged</c>.</item>
/// </list>
/// A generator that throws fails the run as well. All violations are reported together through <see cref="Assert.Fail(string)"/>.
/// </summary>
public static class GeneratorHarness
{
    /// <summary>Source of the tree added by the unrelated-edit check.</summary>
    public const string UnrelatedSource = "class UnrelatedType {}";

    /// <summary>The values of the public <c>const string</c> fields of <paramref name="trackingNamesType"/> (e.g. a generator's <c>TrackingNames</c> class).</summary>
    public static ImmutableArray<string> TrackingNamesOf(Type trackingNamesType)
    {
        ArgumentNullException.ThrowIfNull(trackingNamesType);
        return trackingNamesType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && !f.IsInitOnly && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)
            .ToImmutableArray();
    }

    /// <summary>Runs one generator on one source (<c>Input.cs</c>).</summary>
    public static GeneratorResult Run(IIncrementalGenerator generator, string source, GeneratorHarnessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(source);
        return Run([generator], [source], options);
    }

    /// <summary>Runs the generators on a <see cref="TestCompilation"/> of the sources (<c>Input.cs</c>, or <c>Input0.cs</c>, <c>Input1.cs</c>, …).</summary>
    public static GeneratorResult Run(IEnumerable<IIncrementalGenerator> generators, IEnumerable<string> sources, GeneratorHarnessOptions? options = null)
    {
        options ??= new GeneratorHarnessOptions();
        var compilation = TestCompilation.Create(sources, options.References, options.ParseOptions, options.CompilationOptions);
        return Run(generators, compilation, options);
    }

    /// <summary>Runs the generators on an existing compilation, with all checks of <paramref name="options"/>.</summary>
    public static GeneratorResult Run(IEnumerable<IIncrementalGenerator> generators, CSharpCompilation compilation, GeneratorHarnessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generators);
        ArgumentNullException.ThrowIfNull(compilation);
        options ??= new GeneratorHarnessOptions();
        var generatorList = generators.ToArray();
        if (generatorList.Length == 0)
        {
            throw new ArgumentException("At least one generator is required.", nameof(generators));
        }

        var parseOptions = compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions ?? options.ParseOptions ?? TestCompilation.ParseOptions;
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            generatorList.Select(GeneratorExtensions.AsSourceGenerator),
            options.AdditionalTexts,
            parseOptions,
            options.AnalyzerConfigOptionsProvider,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        var clone = compilation.Clone();
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var outputCompilation, out _);
        var first = driver.GetRunResult();

        var problems = new List<string>();
        foreach (var result in first.Results.Where(r => r.Exception is not null))
        {
            problems.Add($"Generator {result.Generator.GetGeneratorType().Name} threw {result.Exception}");
        }

        var names = options.TrackingNames.Distinct(StringComparer.Ordinal).ToArray();
        CheckNamesRecorded(first, names, options.RequireAllTrackingNames, problems);
        CheckForbiddenObjects(first, names, problems);

        if (options.CheckCaching)
        {
            driver = driver.RunGenerators(clone);
            var second = driver.GetRunResult();
            CheckRunsEqual(first, second, names, problems);
            CheckOutputStepsCached(second, problems);

            if (options.CheckUnrelatedEdit)
            {
                var edited = clone.AddSyntaxTrees(CSharpSyntaxTree.ParseText(UnrelatedSource, parseOptions, "UnrelatedType.cs", Encoding.UTF8));
                var third = driver.RunGenerators(edited).GetRunResult();
                CheckCachedAfterEdit(third, names, problems);
            }
        }

        if (problems.Count > 0)
        {
            Assert.Fail("Generator harness checks failed:\n  " + string.Join("\n  ", problems));
        }

        var generated = first.Results
            .SelectMany(r => r.GeneratedSources.Select(s => (Generator: r.Generator.GetGeneratorType().FullName ?? string.Empty, Source: s)))
            .OrderBy(x => x.Source.HintName, StringComparer.Ordinal)
            .ThenBy(x => x.Generator, StringComparer.Ordinal)
            .Select(x => new GeneratedSource(x.Source.HintName, Snapshot.NormalizeLineEndings(x.Source.SourceText.ToString())))
            .ToImmutableArray();

        return new GeneratorResult(
            compilation,
            outputCompilation,
            first,
            generated,
            DiagnosticFormat.Sort(first.Diagnostics),
            DiagnosticFormat.Sort(outputCompilation.GetDiagnostics().Where(d => d.Severity != DiagnosticSeverity.Hidden)));
    }

    /// <summary>One snapshot text: <c>//HintName: {hint}</c>, a newline and the source, per file, joined with <c>\n</c>.</summary>
    public static string FormatGeneratedSources(IEnumerable<GeneratedSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return string.Join("\n", sources.Select(s => $"//HintName: {s.HintName}\n{Snapshot.NormalizeLineEndings(s.Text)}"));
    }

    private static IEnumerable<(string Generator, IncrementalGeneratorRunStep Step)> Steps(GeneratorDriverRunResult run, string name)
    {
        foreach (var result in run.Results)
        {
            if (result.TrackedSteps.TryGetValue(name, out var steps))
            {
                foreach (var step in steps)
                {
                    yield return (result.Generator.GetGeneratorType().Name, step);
                }
            }
        }
    }

    // A step that produced no output (e.g. a diagnostics branch on valid input) is not recorded at all, so by
    // default only "none of the names was recorded" fails (a wrong TrackingNames class); RequireAllTrackingNames is stricter.
    private static void CheckNamesRecorded(GeneratorDriverRunResult run, string[] names, bool requireAll, List<string> problems)
    {
        var recorded = run.Results.SelectMany(r => r.TrackedSteps.Keys).ToHashSet(StringComparer.Ordinal);
        var unrecorded = names.Where(n => !recorded.Contains(n)).ToArray();
        if (unrecorded.Length == 0 || (!requireAll && unrecorded.Length < names.Length))
        {
            return;
        }

        foreach (var name in unrecorded)
        {
            problems.Add($"Tracking name '{name}' was not recorded by any generator (is the step named with .WithTrackingName(\"{name}\") " +
                         $"and reached by the test input?). Recorded steps: {string.Join(", ", recorded.Order(StringComparer.Ordinal))}.");
        }
    }

    private static void CheckForbiddenObjects(GeneratorDriverRunResult run, string[] names, List<string> problems)
    {
        foreach (var name in names)
        {
            foreach (var (generator, step) in Steps(run, name))
            {
                for (var i = 0; i < step.Outputs.Length; i++)
                {
                    foreach (var finding in ModelGraph.FindForbidden(step.Outputs[i].Value, $"output[{i}]"))
                    {
                        problems.Add($"Step '{name}' ({generator}) holds a Roslyn object that must not cross pipeline stages: {finding}.");
                    }
                }
            }
        }
    }

    private static void CheckRunsEqual(GeneratorDriverRunResult first, GeneratorDriverRunResult second, string[] names, List<string> problems)
    {
        foreach (var name in names)
        {
            var steps1 = Steps(first, name).ToArray();
            var steps2 = Steps(second, name).ToArray();
            if (steps1.Length != steps2.Length)
            {
                problems.Add($"Step '{name}' ran {steps1.Length} time(s) on the first run but {steps2.Length} time(s) on the second (cloned compilation).");
                continue;
            }

            for (var s = 0; s < steps1.Length; s++)
            {
                var outputs1 = steps1[s].Step.Outputs;
                var outputs2 = steps2[s].Step.Outputs;
                if (outputs1.Length != outputs2.Length)
                {
                    problems.Add($"Step '{name}' produced {outputs1.Length} output(s) on the first run but {outputs2.Length} on the second.");
                    continue;
                }

                for (var i = 0; i < outputs1.Length; i++)
                {
                    if (!ValuesEqual(outputs1[i].Value, outputs2[i].Value))
                    {
                        problems.Add($"Step '{name}' output[{i}] is not equal between runs (the model must be value-equatable, " +
                                     $"e.g. a record of strings and EquatableArray<T>): {Describe(outputs1[i].Value)} vs {Describe(outputs2[i].Value)}.");
                    }

                    var reason = outputs2[i].Reason;
                    if (reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
                    {
                        problems.Add($"Step '{name}' output[{i}] was {reason} on the second run (cloned compilation); expected Cached or Unchanged.");
                    }
                }
            }
        }
    }

    private static void CheckOutputStepsCached(GeneratorDriverRunResult second, List<string> problems)
    {
        foreach (var result in second.Results)
        {
            foreach (var (kind, steps) in result.TrackedOutputSteps.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                foreach (var (output, i) in steps.SelectMany(s => s.Outputs).Select((o, i) => (o, i)))
                {
                    if (output.Reason != IncrementalStepRunReason.Cached)
                    {
                        problems.Add($"Output step '{kind}' ({result.Generator.GetGeneratorType().Name}) output[{i}] was {output.Reason} " +
                                     "on the second run (cloned compilation); expected Cached, so the source was regenerated.");
                    }
                }
            }
        }
    }

    private static void CheckCachedAfterEdit(GeneratorDriverRunResult run, string[] names, List<string> problems)
    {
        foreach (var name in names)
        {
            foreach (var (generator, step) in Steps(run, name))
            {
                for (var i = 0; i < step.Outputs.Length; i++)
                {
                    var reason = step.Outputs[i].Reason;
                    if (reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
                    {
                        var hint = reason == IncrementalStepRunReason.New
                            ? "the step picks up the unrelated type itself; filter earlier (ForAttributeWithMetadataName, a tighter predicate)"
                            : "the step depends on more than its own inputs (e.g. the whole Compilation) or its model is not value-equatable";
                        problems.Add($"Step '{name}' ({generator}) output[{i}] was {reason} after adding an unrelated file " +
                                     $"('{UnrelatedSource}'); expected Cached or Unchanged: {hint}. " +
                                     "(Set GeneratorHarnessOptions.CheckUnrelatedEdit = false only if that is by design.)");
                    }
                }
            }
        }
    }

    private static bool ValuesEqual(object? a, object? b)
    {
        if (Equals(a, b))
        {
            return true;
        }

        // Collect() yields ImmutableArray<T>, whose Equals is reference equality: compare element-wise.
        if (a is IEnumerable ea && b is IEnumerable eb && a is not string && b is not string && a.GetType() == b.GetType())
        {
            var la = ea.Cast<object?>().ToList();
            var lb = eb.Cast<object?>().ToList();
            return la.Count == lb.Count && la.Zip(lb).All(p => ValuesEqual(p.First, p.Second));
        }

        return false;
    }

    private static string Describe(object? value)
    {
        var text = value?.ToString() ?? "null";
        return text.Length > 200 ? text[..200] + "…" : text;
    }
}

/// <summary>Inputs and switches for <see cref="GeneratorHarness"/>.</summary>
public sealed record GeneratorHarnessOptions
{
    /// <summary>References of the test compilation; default <see cref="TestReferences.Net100"/>.</summary>
    public IEnumerable<MetadataReference>? References { get; init; }

    /// <summary>Step names to check (e.g. <c>GeneratorHarness.TrackingNamesOf(typeof(TrackingNames))</c>).</summary>
    public IEnumerable<string> TrackingNames { get; init; } = [];

    /// <summary>
    /// Fail when any tracking name was not recorded; default false, because a step with no output for the test input
    /// (e.g. a diagnostics branch) is not recorded. When false, the run fails only if none of the names was recorded.
    /// </summary>
    public bool RequireAllTrackingNames { get; init; }

    /// <summary>Parse options; default <see cref="TestCompilation.ParseOptions"/>.</summary>
    public CSharpParseOptions? ParseOptions { get; init; }

    /// <summary>Compilation options; default <see cref="TestCompilation.Options"/>.</summary>
    public CSharpCompilationOptions? CompilationOptions { get; init; }

    /// <summary>Additional files passed to the driver.</summary>
    public IEnumerable<AdditionalText> AdditionalTexts { get; init; } = [];

    /// <summary>Analyzer config (.editorconfig / MSBuild property) options passed to the driver.</summary>
    public AnalyzerConfigOptionsProvider? AnalyzerConfigOptionsProvider { get; init; }

    /// <summary>Run the second (cloned) pass and its caching assertions, and the unrelated-edit check if enabled; default true.</summary>
    public bool CheckCaching { get; init; } = true;

    /// <summary>Also check the named steps after adding <see cref="GeneratorHarness.UnrelatedSource"/>; default true.</summary>
    public bool CheckUnrelatedEdit { get; init; } = true;
}

/// <summary>One generated file.</summary>
/// <param name="HintName">The hint name given to <c>AddSource</c>, e.g. <c>Rid.g.cs</c>.</param>
/// <param name="Text">The generated text, line endings normalised to <c>\n</c>.</param>
public sealed record GeneratedSource(string HintName, string Text);

/// <summary>What a <see cref="GeneratorHarness"/> run produced (from the first run).</summary>
/// <param name="InputCompilation">The compilation given to the generators.</param>
/// <param name="OutputCompilation">The compilation with the generated trees added.</param>
/// <param name="RunResult">The driver's run result (tracked steps, exceptions).</param>
/// <param name="GeneratedSources">Generated files ordered by hint name (ordinal).</param>
/// <param name="GeneratorDiagnostics">Diagnostics reported by the generators, sorted.</param>
/// <param name="OutputDiagnostics">Non-hidden diagnostics of <paramref name="OutputCompilation"/>, sorted (does the generated code compile?).</param>
public sealed record GeneratorResult(
    CSharpCompilation InputCompilation,
    Compilation OutputCompilation,
    GeneratorDriverRunResult RunResult,
    ImmutableArray<GeneratedSource> GeneratedSources,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> OutputDiagnostics)
{
    /// <summary>Error-severity diagnostics of the output compilation.</summary>
    public ImmutableArray<Diagnostic> OutputErrors => OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();

    /// <summary>Generator diagnostics as <c>Input.cs(1,33): error IOAG001: …</c> lines.</summary>
    public ImmutableArray<string> FormattedGeneratorDiagnostics => DiagnosticFormat.FormatAll(GeneratorDiagnostics);

    /// <summary>Output-compilation diagnostics as <c>File.cs(l,c): severity ID: message</c> lines.</summary>
    public ImmutableArray<string> FormattedOutputDiagnostics => DiagnosticFormat.FormatAll(OutputDiagnostics);

    /// <summary>The text of the generated file with this hint name; fails the test when there is none.</summary>
    public string Source(string hintName)
    {
        var match = GeneratedSources.Where(s => s.HintName == hintName).ToArray();
        if (match.Length != 1)
        {
            Assert.Fail($"Expected one generated file '{hintName}' but found {match.Length}. Generated: {string.Join(", ", GeneratedSources.Select(s => s.HintName))}.");
        }

        return match[0].Text;
    }

    /// <summary>All generated files as one snapshot text (see <see cref="GeneratorHarness.FormatGeneratedSources"/>).</summary>
    public string ToSnapshot() => GeneratorHarness.FormatGeneratedSources(GeneratedSources);
}
