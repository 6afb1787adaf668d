using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Rules.IOA001;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Analyzers.CodeFixes.Rules.IOA001;

/// <summary>
/// Fixes IOA001 where the mdev's parent is attached, replaced or detached on its RID on the mdev's behalf:
/// "Bind the mdev with IommufdContext.BindMediatedDevice" (for Attach, offered first) lets the iommufd layer choose the
/// parent's PASID or a software access, handing it an <c>IAccessOps</c> in scope when there is one; "Use the mdev's
/// PASID on its parent" passes <c>mdev.Pasid!.Value</c> (for an mdev that has a PASID; the id must then be a
/// PASID-compatible HWPT, as iommufd refuses an IOAS on a PASID).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MediatedDeviceInIommuLayerCodeFix)), Shared]
public sealed class MediatedDeviceInIommuLayerCodeFix : CodeFixProvider
{
    /// <summary>Title of the action that adds the mdev's PASID.</summary>
    public const string UsePasidTitle = "Use the mdev's PASID on its parent";

    /// <summary>Title of the action that binds the mdev through the iommufd layer.</summary>
    public const string BindMediatedDeviceTitle = "Bind the mdev with IommufdContext.BindMediatedDevice";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MediatedDeviceInIommuLayer);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(MediatedDeviceInIommuLayerAnalyzer.KindProperty, out var kind)
            || kind != MediatedDeviceInIommuLayerAnalyzer.KindParentOnRid
            || !diagnostic.Properties.TryGetValue(MediatedDeviceInIommuLayerAnalyzer.MdevProperty, out var mdev) || mdev is null)
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax invocation
            || invocation.Expression is not MemberAccessExpressionSyntax member)
        {
            return;
        }

        var noPasid = diagnostic.Properties.TryGetValue(MediatedDeviceInIommuLayerAnalyzer.NoPasidProperty, out var flag) && flag == "true";
        var method = member.Name.Identifier.ValueText;
        var canBind = method == "Attach" && !mdev.EndsWith(".Mdev", System.StringComparison.Ordinal);
        var usePasid = CodeAction.Create(UsePasidTitle, ct => UsePasidAsync(context.Document, root, invocation, method, mdev), UsePasidTitle);
        var bind = CodeAction.Create(BindMediatedDeviceTitle, ct => BindAsync(context.Document, root, invocation, member, mdev, ct), BindMediatedDeviceTitle);

        // Binding first: it works for an IOAS id too (iommufd refuses an IOAS on a PASID; the binding allocates a
        // PASID-compatible HWPT for it) and for an mdev without a PASID. Passing the PASID needs a PASID-compatible HWPT
        // id, and is no fix at all for an mdev known to have no PASID.
        if (canBind)
        {
            context.RegisterCodeFix(bind, diagnostic);
        }

        if (!noPasid)
        {
            context.RegisterCodeFix(usePasid, diagnostic);
        }
    }

    private static Task<Document> UsePasidAsync(Document document, SyntaxNode root, InvocationExpressionSyntax invocation, string method, string mdev)
    {
        var pasid = SyntaxFactory.ParseExpression($"{mdev}.Pasid!.Value");
        var arguments = invocation.ArgumentList.Arguments;
        var pasidIndex = method == "Detach" ? 0 : 1;
        var named = arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == "pasid");
        var existing = named ?? (arguments.Count > pasidIndex && arguments[pasidIndex].NameColon is null ? arguments[pasidIndex] : null);

        var newArguments = existing is not null
            ? arguments.Replace(existing, existing.WithExpression(pasid.WithTriviaFrom(existing.Expression)))
            : arguments.Add(arguments.Any(a => a.NameColon is not null)
                ? SyntaxFactory.Argument(SyntaxFactory.NameColon("pasid"), default, pasid)
                : SyntaxFactory.Argument(pasid));
        var fixedInvocation = invocation.WithArgumentList(invocation.ArgumentList.WithArguments(newArguments));
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(invocation, fixedInvocation)));
    }

    private static async Task<Document> BindAsync(Document document, SyntaxNode root, InvocationExpressionSyntax invocation,
        MemberAccessExpressionSyntax member, string mdev, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var parent = member.Expression.WithoutTrivia().ToString();
        var ops = model is null ? null : FindAccessOps(model, invocation.SpanStart);
        var arguments = ops is null ? $"{mdev}, {parent}" : $"{mdev}, {parent}, {ops}";
        var id = invocation.ArgumentList.Arguments.FirstOrDefault()?.Expression.ToString() ?? string.Empty;
        var replacement = SyntaxFactory.ParseExpression($"{parent}.Context.BindMediatedDevice({arguments}).Attach({id})").WithTriviaFrom(invocation);
        return document.WithSyntaxRoot(root.ReplaceNode(invocation, replacement));
    }

    // The parent driver's access callbacks, if a local, parameter, field or property in scope holds them.
    private static string? FindAccessOps(SemanticModel model, int position)
    {
        var accessOps = model.Compilation.GetTypeByMetadataName("Ioasid.Core.Iommufd.IAccessOps");
        if (accessOps is null)
        {
            return null;
        }

        foreach (var symbol in model.LookupSymbols(position))
        {
            var type = symbol switch
            {
                ILocalSymbol local => local.Type,
                IParameterSymbol parameter => parameter.Type,
                IFieldSymbol field => field.Type,
                IPropertySymbol property => property.Type,
                _ => null,
            };
            if (type is not null && model.Compilation.ClassifyConversion(type, accessOps).IsImplicit && type.SpecialType != SpecialType.System_Object
                && symbol.DeclaringSyntaxReferences.All(r => r.Span.Start < position || symbol is not ILocalSymbol))
            {
                return symbol.Name;
            }
        }

        return null;
    }
}
