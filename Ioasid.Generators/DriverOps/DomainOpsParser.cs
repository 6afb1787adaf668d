using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ioasid.Generators.Common;
using Ioasid.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Turns one class carrying <c>[IommuDomainOps]</c> into a <see cref="DomainOpsResult"/>: its static <c>[DomainOp]</c>
/// methods matched against the <c>DomainOps</c> entries. Looks at symbols; returns values only.
/// </summary>
internal static class DomainOpsParser
{
    public const string AttributeMetadataName = "Ioasid.IommuDomainOpsAttribute";
    public const string OpAttributeMetadataName = "Ioasid.DomainOpAttribute";

    public static DomainOpsResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
        var compilation = context.SemanticModel.Compilation;
        var opAttribute = compilation.GetTypeByMetadataName(OpAttributeMetadataName);
        var attribute = context.Attributes[0];
        if (opAttribute is null || !OpsTypeChecks.IsFirstApplication(context, attribute.AttributeClass!))
        {
            return DomainOpsResult.Nothing;
        }

        var diagnostics = new List<DiagnosticInfo>();
        var location = syntax.Identifier.GetLocation();
        OpsTypeChecks.CheckShape(symbol, syntax, "IommuDomainOps", diagnostics);
        var iommuDomain = compilation.GetTypeByMetadataName(OpCatalog.IommuDomainMetadataName);
        if (iommuDomain is null || compilation.GetTypeByMetadataName(OpCatalog.DomainOpsMetadataName) is null)
        {
            OpsTypeChecks.Unsupported(symbol, location, "Ioasid.Core, which defines DomainOps, is not referenced", diagnostics);
            return new DomainOpsResult(null, diagnostics.ToEquatableArray());
        }

        if (!OpSignature.IsOrDerivesFrom(symbol, iommuDomain))
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG015_DomainOpsNotIommuDomain, location, symbol.Name));
            return new DomainOpsResult(null, diagnostics.ToEquatableArray());   // every op's first parameter would be wrong too
        }

        var paging = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Paging").Value.Value is true;
        var specs = OpCatalog.DomainOps;
        var sources = new IMethodSymbol?[specs.Length];
        var invokes = new IMethodSymbol?[specs.Length];
        foreach (var (member, opData) in OpsTypeChecks.OpMembers(symbol, opAttribute))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } method)
            {
                continue;   // accessors, operators: OpMemberParser reports them
            }

            var memberLocation = OpsTypeChecks.NameLocation(member);
            var memberName = $"{symbol.Name}.{member.Name}";
            var kind = OpsTypeChecks.KindOf(opData);
            if (kind is not { } index || index < 0 || index >= specs.Length)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG014_OpsMisplacedOp, memberLocation, "DomainOp", memberName,
                    $"{kind?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "its argument"} is not a DomainOpKind this generator knows"));
                continue;
            }

            var spec = specs[index];
            if (sources[index] is { } first)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG013_OpsDuplicateOp, memberLocation,
                    symbol.Name, spec.Member, first.Name, member.Name));
                continue;
            }

            sources[index] = method;
            if (!method.IsStatic)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG014_OpsMisplacedOp, memberLocation, "DomainOp", memberName,
                    "domain ops must be static methods; one table serves every domain of the class, passed as the first parameter"));
                continue;
            }

            var invoke = compilation.GetTypeByMetadataName(OpCatalog.CoreNamespace + "." + spec.DelegateName)?.DelegateInvokeMethod;
            if (invoke is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG012_OpsWrongSignature, memberLocation, memberName, spec.Member,
                    $"a method of the delegate {OpCatalog.CoreNamespace}.{spec.DelegateName}, which the referenced Ioasid.Core does not define"));
                continue;
            }

            invokes[index] = invoke;
            if (method.Parameters.Length == 0 || !OpSignature.IsDomainParameter(method.Parameters[0], symbol, iommuDomain) ||
                !OpSignature.Matches(method, invoke, skip: 1))
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG012_OpsWrongSignature, memberLocation, memberName, spec.Member,
                    OpSignature.Describe(invoke, member.Name, symbol)));
            }
        }

        for (var i = 0; i < specs.Length; i++)
        {
            var spec = specs[i];
            if (sources[i] is not null)
            {
                continue;
            }

            if (spec.Requirement == OpRequirement.Required)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG011_OpsRequiredOpMissing, location, symbol.Name, spec.Display,
                    $"mark a static method [DomainOp(DomainOpKind.{spec.Member})]"));
            }
            else if (spec.Requirement == OpRequirement.RequiredForPaging && paging)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG011_OpsRequiredOpMissing, location, symbol.Name, spec.Display + " of a paging domain",
                    $"mark a static method [DomainOp(DomainOpKind.{spec.Member})], or declare [IommuDomainOps(Paging = false)]"));
            }
        }

        CheckDirtyPair(symbol, sources, OpCatalog.SetDirtyTracking, OpCatalog.ReadAndClearDirty, diagnostics);
        CheckDirtyPair(symbol, sources, OpCatalog.ReadAndClearDirty, OpCatalog.SetDirtyTracking, diagnostics);
        if (diagnostics.Count > 0)
        {
            return new DomainOpsResult(null, diagnostics.ToEquatableArray());
        }

        var entries = new DomainOpEntry[specs.Length];
        for (var i = 0; i < specs.Length; i++)
        {
            entries[i] = sources[i] is { } method && invokes[i] is { } invoke
                ? Present(specs[i], method, invoke, iommuDomain)
                : new DomainOpEntry(specs[i].Member, null, null, EquatableArray<LambdaParameter>.Empty, specs[i].AbsentNote);
        }

        var model = new DomainOpsModel(OpsTypeChecks.NamespaceOf(symbol), symbol.Name, symbol.ToDisplayString(OpSignature.CodeFormat),
            OpsTypeChecks.KeywordOf(symbol), paging, new EquatableArray<DomainOpEntry>(entries));
        return new DomainOpsResult(model, EquatableArray<DiagnosticInfo>.Empty);
    }

    private static DomainOpEntry Present(OpSpec spec, IMethodSymbol method, IMethodSymbol invoke, INamedTypeSymbol iommuDomain)
    {
        var domainType = method.Parameters[0].Type;
        var cast = SymbolEqualityComparer.Default.Equals(domainType, iommuDomain)
            ? null
            : domainType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(OpSignature.CodeFormat);
        var parameters = invoke.Parameters
            .Select(p => new LambdaParameter(OpSignature.Modifier(p.RefKind), p.Type.ToDisplayString(OpSignature.CodeFormat), OpSignature.Identifier(p.Name)))
            .ToEquatableArray();
        return new DomainOpEntry(spec.Member, OpSignature.Identifier(method.Name), cast, parameters, spec.AbsentNote);
    }

    private static void CheckDirtyPair(INamedTypeSymbol symbol, IMethodSymbol?[] sources, int present, int partner, List<DiagnosticInfo> diagnostics)
    {
        if (sources[present] is { } method && sources[partner] is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG016_DomainDirtyOpsUnpaired, OpsTypeChecks.NameLocation(method),
                symbol.Name, OpCatalog.DomainOps[present].Display, OpCatalog.DomainOps[partner].Display));
        }
    }
}
