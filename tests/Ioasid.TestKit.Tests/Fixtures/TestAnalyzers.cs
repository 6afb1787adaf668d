// These fixtures are instantiated directly by the tests and never loaded by a compiler, so the packaging
// rules for shipped compiler extensions (netstandard2.0 only, no Workspaces reference, release tracking) do not apply.
#pragma warning disable RS1036, RS1038, RS1041, RS2008

using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Editing;

namespace Ioasid.TestKit.Tests.Fixtures;

/// <summary>TK001: a concrete, non-static, non-record class should be sealed (reported on the identifier).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SealClassAnalyzer : DiagnosticAnalyzer
{
    public const string Id = "TK001";

    public static readonly DiagnosticDescriptor Rule = new(
        Id, "Class should be sealed", "Class '{0}' should be sealed", "Design", DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(static c =>
        {
            var type = (INamedTypeSymbol)c.Symbol;
            if (type.TypeKind == TypeKind.Class && !type.IsSealed && !type.IsStatic && !type.IsAbstract && !type.IsRecord)
            {
                c.ReportDiagnostic(Diagnostic.Create(Rule, type.Locations[0], type.Name));
            }
        }, SymbolKind.NamedType);
    }
}

/// <summary>Adds <c>sealed</c> (action "Seal class") or, as a second action, <c>static</c> (action "Make class static").</summary>
[ExportCodeFixProvider(LanguageNames.CSharp), Shared]
public sealed class SealClassCodeFix : CodeFixProvider
{
    public const string SealTitle = "Seal class";
    public const string StaticTitle = "Make class static";

    public override ImmutableArray<string> FixableDiagnosticIds => [SealClassAnalyzer.Id];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span) is not ClassDeclarationSyntax declaration)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create(SealTitle, ct => ChangeAsync(context.Document, declaration, static m => m.WithIsSealed(true), ct), SealTitle), context.Diagnostics);
        context.RegisterCodeFix(CodeAction.Create(StaticTitle, ct => ChangeAsync(context.Document, declaration, static m => m.WithIsStatic(true), ct), StaticTitle), context.Diagnostics);
    }

    private static async Task<Document> ChangeAsync(Document document, ClassDeclarationSyntax declaration, Func<DeclarationModifiers, DeclarationModifiers> change, CancellationToken ct)
    {
        var editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
        editor.ReplaceNode(declaration, (node, g) => g.WithModifiers(node, change(g.GetModifiers(node))));
        return editor.GetChangedDocument();
    }
}

/// <summary>A fix that registers an action changing nothing useful (adds a comment), so the diagnostic stays.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp), Shared]
public sealed class UselessCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => [SealClassAnalyzer.Id];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        context.RegisterCodeFix(CodeAction.Create("Add comment", async ct =>
        {
            var text = await context.Document.GetTextAsync(ct).ConfigureAwait(false);
            return context.Document.WithText(text.Replace(0, 0, "// touched\n"));
        }, "Add comment"), context.Diagnostics);
        return Task.CompletedTask;
    }
}

/// <summary>TK002: reports every method named "Bad" (a second id, to test id markup).</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BadMethodAnalyzer : DiagnosticAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = new(
        "TK002", "Method named Bad", "Method '{0}' is named Bad", "Naming", DiagnosticSeverity.Info, isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(static c =>
        {
            if (c.Symbol.Name == "Bad")
            {
                c.ReportDiagnostic(Diagnostic.Create(Rule, c.Symbol.Locations[0], c.Symbol.Name));
            }
        }, SymbolKind.Method);
    }
}

/// <summary>Throws while analysing, to prove analyzer exceptions fail the assertion.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ThrowingAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [SealClassAnalyzer.Rule];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(static _ => throw new InvalidOperationException("boom"), SymbolKind.NamedType);
    }
}
