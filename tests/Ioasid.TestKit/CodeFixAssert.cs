using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.TestKit;

/// <summary>
/// Code-fix assertions (substitute for <c>CSharpCodeFixVerifier&lt;TAnalyzer, TCodeFix&gt;.VerifyCodeFixAsync</c>) in an
/// <see cref="AdhocWorkspace"/>: the marked diagnostics are reported, the fix is applied to each fixable diagnostic
/// in turn (first registered action, or the one with the given title), the result equals <c>after</c>
/// (line endings normalised), compiles, and the analyzer no longer reports the fixed ids. No Fix-All.
/// </summary>
public static class CodeFixAssert
{
    /// <summary>Verifies a new <typeparamref name="TCodeFix"/> for a new <typeparamref name="TAnalyzer"/>.</summary>
    public static Task VerifyAsync<TAnalyzer, TCodeFix>(string beforeMarkup, string after, params MetadataReference[] extraReferences)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TCodeFix : CodeFixProvider, new()
        => VerifyAsync(new TAnalyzer(), new TCodeFix(), beforeMarkup, after, extraReferences);

    /// <summary>Verifies the fix using the first code action it registers for each diagnostic.</summary>
    public static Task VerifyAsync(DiagnosticAnalyzer analyzer, CodeFixProvider fix, string beforeMarkup, string after,
        params MetadataReference[] extraReferences)
        => VerifyAsync(analyzer, fix, beforeMarkup, after, codeActionTitle: null, extraReferences);

    /// <summary>Verifies the fix using the code action titled <paramref name="codeActionTitle"/> (first action when null).</summary>
    public static async Task VerifyAsync(DiagnosticAnalyzer analyzer, CodeFixProvider fix, string beforeMarkup, string after,
        string? codeActionTitle, params MetadataReference[] extraReferences)
    {
        ArgumentNullException.ThrowIfNull(analyzer);
        ArgumentNullException.ThrowIfNull(fix);
        ArgumentNullException.ThrowIfNull(beforeMarkup);
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(extraReferences);

        var parsed = Markup.Parse(beforeMarkup);
        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId(TestCompilation.AssemblyName);
        var documentId = DocumentId.CreateNewId(projectId, "Input.cs");
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Create(), TestCompilation.AssemblyName, TestCompilation.AssemblyName,
                LanguageNames.CSharp, compilationOptions: TestCompilation.Options, parseOptions: TestCompilation.ParseOptions,
                metadataReferences: TestReferences.Net100.AddRange(extraReferences)))
            .AddDocument(documentId, "Input.cs", SourceText.From(parsed.Source), filePath: "Input.cs");

        var compilation = await CompileAsync(solution, projectId).ConfigureAwait(false);
        TestCompilation.AssertNoErrors(compilation, "code before the fix");
        var diagnostics = await AnalyzerAssert.GetDiagnosticsAsync(compilation, analyzer).ConfigureAwait(false);
        AnalyzerAssert.AssertMatchesMarkup(parsed, diagnostics);

        var fixableIds = fix.FixableDiagnosticIds.ToImmutableHashSet(StringComparer.Ordinal);
        var fixable = diagnostics.Count(d => fixableIds.Contains(d.Id));
        if (fixable == 0)
        {
            Assert.Fail($"None of the marked diagnostics ({string.Join(", ", diagnostics.Select(d => d.Id).Distinct())}) " +
                        $"has an id the fix handles ({string.Join(", ", fixableIds.Order(StringComparer.Ordinal))}).");
        }

        // One fix per diagnostic, recomputing diagnostics after each (as the testing library's iterative mode does).
        for (var iteration = 0; iteration < fixable; iteration++)
        {
            var target = diagnostics.FirstOrDefault(d => fixableIds.Contains(d.Id));
            if (target is null)
            {
                break;
            }

            solution = await ApplyFixAsync(solution.GetDocument(documentId)!, fix, target, codeActionTitle).ConfigureAwait(false);
            compilation = await CompileAsync(solution, projectId).ConfigureAwait(false);
            diagnostics = await AnalyzerAssert.GetDiagnosticsAsync(compilation, analyzer).ConfigureAwait(false);
        }

        var fixedText = (await solution.GetDocument(documentId)!.GetTextAsync().ConfigureAwait(false)).ToString();
        var expected = Snapshot.NormalizeLineEndings(after);
        var actual = Snapshot.NormalizeLineEndings(fixedText);
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            Assert.Fail("The fixed code differs from the expected code:\n" +
                        LineDiff.Format(expected, actual, "expected (after)", "actual (fixed)") +
                        "Fixed code:\n" + actual);
        }

        TestCompilation.AssertNoErrors(compilation, "fixed code");
        var remaining = diagnostics.Where(d => fixableIds.Contains(d.Id)).ToArray();
        if (remaining.Length > 0)
        {
            Assert.Fail("The analyzer still reports fixed ids after the fix:\n  " + string.Join("\n  ", DiagnosticFormat.FormatAll(remaining)));
        }
    }

    private static async Task<Compilation> CompileAsync(Solution solution, ProjectId projectId)
        => (await solution.GetProject(projectId)!.GetCompilationAsync().ConfigureAwait(false))!;

    private static async Task<Solution> ApplyFixAsync(Document document, CodeFixProvider fix, Diagnostic diagnostic, string? title)
    {
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await fix.RegisterCodeFixesAsync(context).ConfigureAwait(false);

        var chosen = title is null ? actions.FirstOrDefault() : actions.FirstOrDefault(a => a.Title == title);
        if (chosen is null)
        {
            Assert.Fail($"No code action{(title is null ? string.Empty : $" titled '{title}'")} was registered for " +
                        $"{DiagnosticFormat.Format(diagnostic)}. Registered: [{string.Join(", ", actions.Select(a => $"'{a.Title}'"))}].");
        }

        var operations = await chosen.GetOperationsAsync(CancellationToken.None).ConfigureAwait(false);
        var apply = operations.OfType<ApplyChangesOperation>().ToArray();
        if (apply.Length != 1)
        {
            Assert.Fail($"Code action '{chosen.Title}' produced {apply.Length} ApplyChangesOperation(s); expected exactly one.");
        }

        return apply[0].ChangedSolution;
    }
}
