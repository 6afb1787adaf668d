using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ioasid.Analyzers.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Analyzers.CodeFixes.Rules.IOA007;

/// <summary>
/// Fixes IOA007 by keeping the result in a local named after its type (<c>var ioas = iommufd.AllocIoas();</c>), so
/// the caller has the handle it needs to release what the call created.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(OwnedResultIgnoredCodeFix)), Shared]
public sealed class OwnedResultIgnoredCodeFix : CodeFixProvider
{
    /// <summary>Title of the action.</summary>
    public const string Title = "Keep the result in a local";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.OwnedResultIgnored);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var statement = root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<ExpressionStatementSyntax>();
        if (root is null || statement is null || statement.Parent is not BlockSyntax and not SwitchSectionSyntax)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create(Title, ct => KeepAsync(context.Document, root, statement, ct), Title), diagnostic);
    }

    private static async Task<Document> KeepAsync(Document document, SyntaxNode root, ExpressionStatementSyntax statement, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var type = model?.GetTypeInfo(statement.Expression, cancellationToken).Type;
        var name = UniqueName(model, statement.SpanStart, BaseName(type));
        var declaration = SyntaxFactory.LocalDeclarationStatement(
                SyntaxFactory.VariableDeclaration(SyntaxFactory.IdentifierName("var"))
                    .AddVariables(SyntaxFactory.VariableDeclarator(name).WithInitializer(SyntaxFactory.EqualsValueClause(statement.Expression.WithoutTrivia()))))
            .WithTriviaFrom(statement);
        return document.WithSyntaxRoot(root.ReplaceNode(statement, declaration));
    }

    // Ioas → ioas, IommufdDevice → iommufdDevice, Nullable<Iova> → iova.
    private static string BaseName(ITypeSymbol? type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        var name = type?.Name is { Length: > 0 } n ? n : "result";
        return char.ToLowerInvariant(name[0]) + name.Substring(1);
    }

    private static string UniqueName(SemanticModel? model, int position, string baseName)
    {
        var taken = model?.LookupSymbols(position).Select(s => s.Name).ToImmutableHashSet() ?? ImmutableHashSet<string>.Empty;
        var name = baseName;
        for (var i = 2; taken.Contains(name) || SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None; i++)
        {
            name = baseName + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return name;
    }
}
