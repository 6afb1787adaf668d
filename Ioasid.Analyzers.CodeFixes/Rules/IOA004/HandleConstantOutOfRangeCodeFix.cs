using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Rules.IOA004;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Analyzers.CodeFixes.Rules.IOA004;

/// <summary>
/// Fixes IOA004 by putting an in-range value in place of the constant: the constant masked to the handle's bits
/// when its range is a power-of-two span (a PASID keeps its low 20 bits, a device number its low 5), else the
/// handle's minimum (<c>IoasidId.MinValue</c> for a zero id).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(HandleConstantOutOfRangeCodeFix)), Shared]
public sealed class HandleConstantOutOfRangeCodeFix : CodeFixProvider
{
    /// <summary>Title of the action.</summary>
    public const string Title = "Use a value inside the handle's range";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.HandleConstantOutOfRange);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(HandleConstantOutOfRangeAnalyzer.ReplacementProperty, out var replacement) || replacement is null)
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax expression)
        {
            return;
        }

        if (expression.Parent is ArgumentSyntax argument && argument.Span == expression.Span)
        {
            expression = argument.Expression;
        }

        context.RegisterCodeFix(CodeAction.Create($"{Title}: {replacement}", _ =>
        {
            var value = SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(expression);
            return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(expression, value)));
        }, Title), diagnostic);
    }
}
