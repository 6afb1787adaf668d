using System.Linq;
using System.Threading;
using Ioasid.Generators.Common;
using Ioasid.Generators.Diagnostics;
using Microsoft.CodeAnalysis;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Looks at every member carrying <c>[IommuOp]</c> or <c>[DomainOp]</c> and reports IOAG014 when the attribute can have
/// no effect: the containing class is not an <c>[IommuDriver]</c>/<c>[IommuDomainOps]</c> class, or the member is not a
/// method (or, for driver ops, a property). Members of the right classes are left to <see cref="DriverOpsParser"/> and
/// <see cref="DomainOpsParser"/>, which see the whole table.
/// </summary>
internal static class OpMemberParser
{
    /// <summary>Any node: the attribute is what selects, and a misplaced one may sit on a local function or an accessor.</summary>
    public static bool IsCandidate(SyntaxNode node, CancellationToken _) => true;

    public static EquatableArray<DiagnosticInfo> ParseIommuOp(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        Check(context, "IommuOp", DriverOpsParser.AttributeMetadataName, "IommuDriver", propertiesAllowed: true, cancellationToken);

    public static EquatableArray<DiagnosticInfo> ParseDomainOp(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        Check(context, "DomainOp", DomainOpsParser.AttributeMetadataName, "IommuDomainOps", propertiesAllowed: false, cancellationToken);

    private static EquatableArray<DiagnosticInfo> Check(GeneratorAttributeSyntaxContext context, string opAttribute, string containerAttributeMetadataName,
        string containerAttribute, bool propertiesAllowed, CancellationToken cancellationToken)
    {
        var member = context.TargetSymbol;
        var reason = member switch
        {
            IMethodSymbol { MethodKind: MethodKind.LocalFunction } => "local functions cannot be ops; use a method of the class",
            IMethodSymbol { AssociatedSymbol: IPropertySymbol } when propertiesAllowed => "put it on the property, not on its accessor",
            IMethodSymbol { MethodKind: MethodKind.Ordinary } => ContainerReason(member, containerAttributeMetadataName, containerAttribute),
            IPropertySymbol { IsIndexer: false } when propertiesAllowed => ContainerReason(member, containerAttributeMetadataName, containerAttribute),
            _ => propertiesAllowed ? "only methods and properties can be driver ops" : "only static methods can be domain ops",
        };
        if (reason is null)
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        var shown = member is IMethodSymbol { AssociatedSymbol: IPropertySymbol property } ? property : member;
        var name = member.ContainingType is { } type && member is not IMethodSymbol { MethodKind: MethodKind.LocalFunction }
            ? $"{type.Name}.{shown.Name}"
            : member.Name;
        var location = context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation();
        return new EquatableArray<DiagnosticInfo>(new[]
        {
            DiagnosticInfo.Create(GeneratorDiagnostics.IOAG014_OpsMisplacedOp, location, opAttribute, name, reason),
        });
    }

    // Null when the containing class carries the attribute that collects the op.
    private static string? ContainerReason(ISymbol member, string containerAttributeMetadataName, string containerAttribute)
    {
        var container = member.ContainingType;
        if (container is null)
        {
            return $"it is not declared in a [{containerAttribute}] class";
        }

        return container.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == containerAttributeMetadataName)
            ? null
            : $"'{container.Name}' is not marked [{containerAttribute}]";
    }
}
