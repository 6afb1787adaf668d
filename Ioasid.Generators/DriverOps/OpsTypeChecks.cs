using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ioasid.Generators.Common;
using Ioasid.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Checks shared by <c>[IommuDriver]</c> and <c>[IommuDomainOps]</c> classes: where the attribute sits, and whether the
/// class can take a generated partial (IOAG010, IOAG017).
/// </summary>
internal static class OpsTypeChecks
{
    /// <summary>Classes and record classes (the attributes allow only classes).</summary>
    public static bool IsTypeCandidate(SyntaxNode node, CancellationToken _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax;

    /// <summary>
    /// Whether <paramref name="context"/> is the declaration to handle, the one holding the symbol's first application of
    /// the attribute: an attribute repeated on two partial declarations (CS0579) yields a match for each declaration,
    /// which would otherwise give two results and two files with one hint name.
    /// </summary>
    public static bool IsFirstApplication(GeneratorAttributeSyntaxContext context, INamedTypeSymbol attributeClass)
    {
        var first = ((INamedTypeSymbol)context.TargetSymbol).GetAttributes()
            .FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeClass))?.ApplicationSyntaxReference;
        return first is null || (first.SyntaxTree == context.TargetNode.SyntaxTree && context.TargetNode.Span.Contains(first.Span));
    }

    /// <summary>Adds IOAG010 when the class is not partial and IOAG017 when it is nested, generic or static.</summary>
    public static void CheckShape(INamedTypeSymbol symbol, TypeDeclarationSyntax syntax, string attributeName, List<DiagnosticInfo> diagnostics)
    {
        var location = syntax.Identifier.GetLocation();
        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG010_OpsTypeNotPartial, location, symbol.Name, attributeName));
        }

        if (symbol.ContainingType is { } container)
        {
            Unsupported(symbol, location, $"it is nested in '{container.Name}'; declare it directly in a namespace", diagnostics);
        }

        if (symbol.IsGenericType)
        {
            Unsupported(symbol, location, "it is generic; ops tables are built for one concrete class", diagnostics);
        }

        if (symbol.IsStatic)
        {
            Unsupported(symbol, location, "it is static", diagnostics);
        }
    }

    /// <summary>Adds IOAG017 with <paramref name="reason"/>.</summary>
    public static void Unsupported(INamedTypeSymbol symbol, Location location, string reason, List<DiagnosticInfo> diagnostics) =>
        diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG017_OpsTypeUnsupported, location, symbol.Name, reason));

    /// <summary>The namespace to emit into, or null for the global namespace.</summary>
    public static string? NamespaceOf(INamedTypeSymbol symbol) =>
        symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();

    /// <summary>The keyword of the generated partial declaration, matching the user's.</summary>
    public static string KeywordOf(INamedTypeSymbol symbol) => symbol.IsRecord ? "record" : "class";

    /// <summary>The op kind an attribute names (its single constructor argument), or null when it has none.</summary>
    public static int? KindOf(AttributeData attribute) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int kind ? kind : null;

    /// <summary>The location of a member's name.</summary>
    public static Location NameLocation(ISymbol member) => member.Locations.FirstOrDefault() ?? Location.None;

    /// <summary>The <c>[IommuOp]</c>/<c>[DomainOp]</c> attributes of <paramref name="type"/>'s members, in declaration order.</summary>
    public static IEnumerable<(ISymbol Member, AttributeData Attribute)> OpMembers(INamedTypeSymbol type, INamedTypeSymbol opAttribute)
    {
        foreach (var member in type.GetMembers())
        {
            foreach (var attribute in member.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, opAttribute))
                {
                    yield return (member, attribute);
                }
            }
        }
    }
}
