using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Rules.IOA005;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Analyzers.CodeFixes.Rules.IOA005;

/// <summary>
/// Fixes IOA005 by rounding the constant to 4 KiB: an IOVA down (so the range still starts at or before the address
/// meant), a length up (so it still covers every byte meant).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnalignedConstantIovaCodeFix)), Shared]
public sealed class UnalignedConstantIovaCodeFix : CodeFixProvider
{
    /// <summary>Title of the action.</summary>
    public const string Title = "Align to 4 KiB";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UnalignedConstantIova);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(UnalignedConstantIovaAnalyzer.AlignedProperty, out var aligned) || aligned is null)
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } node)
        {
            return;
        }

        var expression = node is ArgumentSyntax argument ? argument.Expression : node as ExpressionSyntax;
        if (expression is null)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create($"{Title}: {aligned}", _ =>
        {
            var value = SyntaxFactory.ParseExpression(aligned).WithTriviaFrom(expression);
            return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(expression, value)));
        }, Title), diagnostic);
    }
}
