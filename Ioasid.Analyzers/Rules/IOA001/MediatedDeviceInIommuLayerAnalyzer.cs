using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA001;

/// <summary>
/// IOA001: a mediated device reaches the IOMMU layer. The type system already keeps Ioasid's own
/// <c>MediatedDevice</c> out of IOMMU-layer parameters; this rule catches what types cannot see:
/// <list type="bullet">
/// <item>an mdev (Ioasid's or a <c>[MediatedDevice]</c> type) passed to an IOMMU-layer parameter typed object or an interface,
/// directly or through a local whose value is one;</item>
/// <item>the mdev's parent attached, replaced or detached on its RID (no PASID) on the mdev's behalf, or its RID domain
/// set or looked up, which hands the whole parent to the mdev's address space;</item>
/// <item>a <c>PciDevice</c> fabricated from an mdev's identity (its parent's RID);</item>
/// <item>IOMMU-layer code that tests for an mdev type (the kernel's old <c>dev_is_mdev</c> special case), or takes one as a parameter.</item>
/// </list>
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MediatedDeviceInIommuLayerAnalyzer : IoasidAnalyzer
{
    /// <summary>Diagnostic property: the source text that names the mdev, when a code fix can use it.</summary>
    public const string MdevProperty = "Mdev";

    /// <summary>Diagnostic property: "true" when the mdev is known to have no PASID (a software access serves it).</summary>
    public const string NoPasidProperty = "NoPasid";

    /// <summary>Diagnostic property: the kind of finding, one of the <c>Kind*</c> constants.</summary>
    public const string KindProperty = "Kind";

    /// <summary>The parent's iommufd device is attached, replaced or detached on its RID on the mdev's behalf.</summary>
    public const string KindParentOnRid = "ParentOnRid";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA001_MediatedDeviceInIommuLayer);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        // One tracker cache per operation block (a method body and its initializers), dropped when the block is done.
        context.RegisterOperationBlockStartAction(block =>
        {
            var trackers = new TrackerCache(symbols);
            block.RegisterOperationAction(c => AnalyzeInvocation(c, symbols, trackers), OperationKind.Invocation);
            block.RegisterOperationAction(c => AnalyzeCreation(c, symbols, trackers), OperationKind.ObjectCreation);
        });
        context.RegisterOperationAction(c => AnalyzeTypeTest(c, symbols),
            OperationKind.IsType, OperationKind.DeclarationPattern, OperationKind.TypePattern, OperationKind.RecursivePattern, OperationKind.Conversion);
        context.RegisterSymbolAction(c => AnalyzeMethod(c, symbols), SymbolKind.Method);
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, IoasidSymbols symbols, TrackerCache trackers)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (!symbols.IsIommuLayerMethod(method))
        {
            return;
        }

        var tracker = trackers.For(invocation);
        if (ReportMdevArguments(context, symbols, tracker, method, invocation.Arguments))
        {
            return;
        }

        if (IoasidSymbols.Is(method.ContainingType, symbols.IommufdDevice) && method.Name is "Attach" or "Replace" or "Detach")
        {
            var origin = tracker.Of(invocation.Instance);
            if (origin.Has(OriginKind.MdevParent) && IsRidPath(invocation))
            {
                Report(context, invocation.Syntax, tracker, origin, KindParentOnRid,
                    $"the parent of mdev '{MdevText(origin)}' is {Verb(method.Name)} on its RID with no PASID");
            }

            return;
        }

        if (IoasidSymbols.Is(method.ContainingType, symbols.IommuCore) && method.Name is "SetGroupDomain" or "GetDomain" && invocation.Arguments.Length > 0)
        {
            var origin = tracker.Of(invocation.Arguments[0].Value);
            if (origin.Has(OriginKind.MdevParent))
            {
                Report(context, invocation.Syntax, tracker, origin, kind: null,
                    $"the RID domain of the parent of mdev '{MdevText(origin)}' is {(method.Name == "GetDomain" ? "looked up" : "set")} on the mdev's behalf");
            }
        }
    }

    private static void AnalyzeCreation(OperationAnalysisContext context, IoasidSymbols symbols, TrackerCache trackers)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (creation.Constructor is not { } constructor)
        {
            return;
        }

        var tracker = trackers.For(creation);
        if (symbols.IsIommuLayerMethod(constructor) && ReportMdevArguments(context, symbols, tracker, constructor, creation.Arguments))
        {
            return;
        }

        if (IoasidSymbols.Is(creation.Type, symbols.PciDevice))
        {
            var rid = creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "rid");
            var origin = tracker.Of(rid?.Value);
            if (rid is not null && origin.Has(OriginKind.Mdev | OriginKind.MdevParent))
            {
                Report(context, creation.Syntax, tracker, origin, kind: null,
                    $"a PciDevice is fabricated from the identity of mdev '{MdevText(origin)}'");
            }
        }
    }

    private static bool ReportMdevArguments(OperationAnalysisContext context, IoasidSymbols symbols, OriginTracker tracker, IMethodSymbol method,
        ImmutableArray<IArgumentOperation> arguments)
    {
        var reported = false;
        foreach (var argument in arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue)
            {
                continue;
            }

            var origin = tracker.Of(argument.Value);
            if (origin.Has(OriginKind.Mdev))
            {
                Report(context, argument.Value.Syntax, tracker, origin, kind: null,
                    $"mdev '{MdevText(origin)}' is passed to {DisplayName(method)}");
                reported = true;
            }
        }

        return reported;
    }

    private static void AnalyzeTypeTest(OperationAnalysisContext context, IoasidSymbols symbols)
    {
        var tested = context.Operation switch
        {
            IIsTypeOperation isType => isType.TypeOperand,
            IDeclarationPatternOperation declaration => declaration.MatchedType,
            ITypePatternOperation typePattern => typePattern.MatchedType,
            IRecursivePatternOperation recursive => recursive.MatchedType,
            IConversionOperation { IsImplicit: false } conversion when !symbols.IsMediatedDevice(conversion.Operand.Type) => conversion.Type,
            _ => null,
        };

        if (!symbols.IsMediatedDevice(tested) || context.ContainingSymbol.ContainingType is not { } type || !symbols.IsIommuLayerType(type))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA001_MediatedDeviceInIommuLayer, context.Operation.Syntax.GetLocation(),
            $"IOMMU-layer code in '{type.Name}' special-cases the mediated device type '{tested!.Name}'"));
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, IoasidSymbols symbols)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (method.IsImplicitlyDeclared || !symbols.IsIommuLayerMethod(method))
        {
            return;
        }

        foreach (var parameter in method.Parameters)
        {
            if (symbols.IsMediatedDevice(parameter.Type) && parameter.Locations.FirstOrDefault() is { IsInSource: true } location)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA001_MediatedDeviceInIommuLayer, location,
                    $"IOMMU-layer method '{DisplayName(method)}' takes the mediated device type '{parameter.Type.Name}'"));
            }
        }
    }

    // Attach/Replace/Detach on the RID: the PASID argument is omitted, default, or the constant IOMMU_NO_PASID.
    private static bool IsRidPath(IInvocationOperation invocation)
    {
        var pasid = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "pasid");
        if (pasid is null || pasid.ArgumentKind == ArgumentKind.DefaultValue)
        {
            return true;
        }

        return HandleConstants.RawValue(pasid.Value) is 0UL;
    }

    private static void Report(OperationAnalysisContext context, SyntaxNode node, OriginTracker tracker, Origin origin, string? kind, string message)
    {
        var properties = ImmutableDictionary<string, string?>.Empty;
        if (kind is not null)
        {
            properties = properties.Add(KindProperty, kind);
        }

        if (FixableMdevText(origin) is { } text)
        {
            properties = properties.Add(MdevProperty, text).Add(NoPasidProperty, KnownWithoutPasid(tracker, origin.Mdev!) ? "true" : "false");
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA001_MediatedDeviceInIommuLayer, node.GetLocation(), properties, message));
    }

    private static string Verb(string method) => method switch
    {
        "Attach" => "attached",
        "Replace" => "replaced",
        _ => "detached",
    };

    private static string DisplayName(IMethodSymbol method)
        => method.MethodKind == MethodKind.Constructor ? $"new {method.ContainingType.Name}" : $"{method.ContainingType.Name}.{method.Name}";

    private static string MdevText(Origin origin)
    {
        var syntax = origin.Mdev?.Syntax.ToString() ?? "?";
        return origin.Mdev?.Type?.Name == "MdevBinding" ? syntax + ".Mdev" : syntax;
    }

    // Only simple names (locals, fields, member chains) are safe to repeat at the call site.
    private static string? FixableMdevText(Origin origin)
    {
        var mdev = OriginTracker.Strip(origin.Mdev);
        var simple = mdev is ILocalReferenceOperation or IParameterReferenceOperation
            || (mdev is IFieldReferenceOperation or IPropertyReferenceOperation && mdev.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax);
        if (!simple)
        {
            return null;
        }

        var isCoreMdev = mdev!.Type?.Name is "MediatedDevice" or "MdevBinding" && mdev.Type.ContainingNamespace?.ToDisplayString() is "Ioasid.Core.Platform" or "Ioasid.Core.Iommufd";
        return isCoreMdev ? MdevText(new Origin(OriginKind.Mdev, mdev)) : null;
    }

    // A local initialised with new MediatedDevice(parent, name) and no PASID: a software access serves it.
    private static bool KnownWithoutPasid(OriginTracker tracker, IOperation mdev)
    {
        if (OriginTracker.Strip(mdev) is not ILocalReferenceOperation local)
        {
            return false;
        }

        var writes = tracker.WritesOf(local.Local);
        return writes.Count > 0 && writes.All(w => OriginTracker.Strip(w) is IObjectCreationOperation creation
            && creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "pasid") is { } pasid
            && (pasid.ArgumentKind == ArgumentKind.DefaultValue || pasid.Value.ConstantValue is { HasValue: true, Value: null }));
    }
}
