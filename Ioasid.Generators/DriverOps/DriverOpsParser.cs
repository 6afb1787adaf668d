using System.Collections.Generic;
using System.Threading;
using Ioasid.Generators.Common;
using Ioasid.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Turns one class carrying <c>[IommuDriver]</c> into a <see cref="DriverOpsResult"/>: its <c>[IommuOp]</c> members
/// matched against the <c>IommuOps</c> entries. This and <see cref="DomainOpsParser"/>/<see cref="OpMemberParser"/> are
/// the only places that look at symbols; what they return holds no symbol or syntax.
/// </summary>
internal static class DriverOpsParser
{
    public const string AttributeMetadataName = "Ioasid.IommuDriverAttribute";
    public const string OpAttributeMetadataName = "Ioasid.IommuOpAttribute";

    public static DriverOpsResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
        var compilation = context.SemanticModel.Compilation;
        var opAttribute = compilation.GetTypeByMetadataName(OpAttributeMetadataName);
        if (opAttribute is null || !OpsTypeChecks.IsFirstApplication(context, context.Attributes[0].AttributeClass!))
        {
            return DriverOpsResult.Nothing;
        }

        var diagnostics = new List<DiagnosticInfo>();
        var location = syntax.Identifier.GetLocation();
        OpsTypeChecks.CheckShape(symbol, syntax, "IommuDriver", diagnostics);
        var args = context.Attributes[0].ConstructorArguments;
        var driverName = args.Length == 1 ? args[0].Value as string : null;
        if (string.IsNullOrEmpty(driverName))
        {
            OpsTypeChecks.Unsupported(symbol, location, "the driver name given to [IommuDriver] is empty", diagnostics);
        }

        var iommuDomain = compilation.GetTypeByMetadataName(OpCatalog.IommuDomainMetadataName);
        var domainOps = compilation.GetTypeByMetadataName(OpCatalog.DomainOpsMetadataName);
        if (iommuDomain is null || domainOps is null || compilation.GetTypeByMetadataName(OpCatalog.IommuOpsMetadataName) is null)
        {
            OpsTypeChecks.Unsupported(symbol, location, "Ioasid.Core, which defines IommuOps, is not referenced", diagnostics);
            return new DriverOpsResult(null, diagnostics.ToEquatableArray());
        }

        var specs = OpCatalog.IommuOps;
        var sources = new ISymbol?[specs.Length];
        foreach (var (member, attribute) in OpsTypeChecks.OpMembers(symbol, opAttribute))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is IMethodSymbol { MethodKind: not MethodKind.Ordinary } or IPropertySymbol { IsIndexer: true })
            {
                continue;   // accessors, operators, indexers: OpMemberParser reports them
            }

            var memberLocation = OpsTypeChecks.NameLocation(member);
            var memberName = $"{symbol.Name}.{member.Name}";
            var kind = OpsTypeChecks.KindOf(attribute);
            if (kind is not { } index || index < 0 || index >= specs.Length)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG014_OpsMisplacedOp, memberLocation, "IommuOp", memberName,
                    $"{kind?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "its argument"} is not an IommuOpKind this generator knows"));
                continue;
            }

            var spec = specs[index];
            if (sources[index] is { } first)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG013_OpsDuplicateOp, memberLocation,
                    symbol.Name, spec.Member, first.Name, member.Name));
                continue;
            }

            sources[index] = member;
            if (member.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG014_OpsMisplacedOp, memberLocation, "IommuOp", memberName,
                    "driver ops must be instance members; the table calls them on the driver instance"));
                continue;
            }

            var expected = Expected(member, spec, compilation, iommuDomain, domainOps);
            if (expected is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG012_OpsWrongSignature, memberLocation, memberName, spec.Member, expected));
            }
        }

        for (var i = 0; i < specs.Length; i++)
        {
            if (specs[i].Requirement == OpRequirement.Required && sources[i] is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG011_OpsRequiredOpMissing, location, symbol.Name, specs[i].Display,
                    $"mark an instance method [IommuOp(IommuOpKind.{specs[i].Member})]"));
            }
        }

        if (sources[OpCatalog.DomainAllocPaging] is null && sources[OpCatalog.DomainAllocPagingFlags] is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG011_OpsRequiredOpMissing, location, symbol.Name,
                "DomainAllocPaging or DomainAllocPagingFlags (domain_alloc_paging[_flags])",
                "mark an instance method [IommuOp(IommuOpKind.DomainAllocPaging)] or [IommuOp(IommuOpKind.DomainAllocPagingFlags)]"));
        }

        if (diagnostics.Count > 0)
        {
            return new DriverOpsResult(null, diagnostics.ToEquatableArray());
        }

        var entries = new DriverOpEntry[specs.Length];
        for (var i = 0; i < specs.Length; i++)
        {
            entries[i] = new DriverOpEntry(specs[i].Member, sources[i] is { } source ? OpSignature.Identifier(source.Name) : null, specs[i].AbsentNote);
        }

        var model = new DriverOpsModel(OpsTypeChecks.NamespaceOf(symbol), symbol.Name, OpsTypeChecks.KeywordOf(symbol), driverName!,
            new EquatableArray<DriverOpEntry>(entries));
        return new DriverOpsResult(model, EquatableArray<DiagnosticInfo>.Empty);
    }

    // Null when the member fits the entry; else the expected shape, for IOAG012.
    private static string? Expected(ISymbol member, OpSpec spec, Compilation compilation, INamedTypeSymbol iommuDomain, INamedTypeSymbol domainOps)
    {
        switch (spec.Shape)
        {
            case OpShape.DomainProperty:
                return member is IPropertySymbol { GetMethod: not null, ReturnsByRef: false, ReturnsByRefReadonly: false } property &&
                       OpSignature.IsOrDerivesFrom(property.Type, iommuDomain)
                    ? null
                    : $"a property 'IommuDomain {member.Name} {{ get; }}' (IommuDomain or a class derived from it)";

            case OpShape.DomainOpsProperty:
                return member is IPropertySymbol { GetMethod: not null, ReturnsByRef: false, ReturnsByRefReadonly: false } opsProperty &&
                       SymbolEqualityComparer.Default.Equals(opsProperty.Type, domainOps)
                    ? null
                    : $"a property 'DomainOps {member.Name} {{ get; }}'";

            default:
                var invoke = compilation.GetTypeByMetadataName(OpCatalog.CoreNamespace + "." + spec.DelegateName)?.DelegateInvokeMethod;
                if (invoke is null)
                {
                    return $"a method of the delegate {OpCatalog.CoreNamespace}.{spec.DelegateName}, which the referenced Ioasid.Core does not define";
                }

                return member is IMethodSymbol method && OpSignature.Matches(method, invoke, skip: 0)
                    ? null
                    : OpSignature.Describe(invoke, member.Name, domainType: null);
        }
    }
}
