using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA009;

/// <summary>
/// IOA009: <c>IommufdDevice.Attach</c> or <c>Replace</c> given the id of an IOAS (<c>ioas.Id</c> with <c>ioas</c> an
/// <c>Ioas</c>) together with a PASID that is not the constant IOMMU_NO_PASID. iommufd attaches a PASID only to a
/// PASID-compatible HWPT; an IOAS on a PASID is EINVAL.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class IoasOnPasidAnalyzer : IoasidAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA009_IoasOnPasid);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.IommufdDevice is null || symbols.Ioas is null)
        {
            return;
        }

        context.RegisterOperationAction(c => Analyze(c, symbols), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, IoasidSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (!IoasidSymbols.Is(method.ContainingType, symbols.IommufdDevice) || method.Name is not ("Attach" or "Replace"))
        {
            return;
        }

        var pasid = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "pasid");
        if (pasid is null || pasid.ArgumentKind == ArgumentKind.DefaultValue || HandleConstants.RawValue(pasid.Value) is 0UL)
        {
            return; // the RID: an IOAS is fine there
        }

        var id = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "ptId")?.Value;
        if (OriginTracker.Strip(id) is IPropertyReferenceOperation { Property.Name: "Id", Instance: { } instance } && IoasidSymbols.Is(instance.Type, symbols.Ioas))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA009_IoasOnPasid, id!.Syntax.GetLocation(),
                $"IommufdDevice.{method.Name}", instance.Syntax.ToString()));
        }
    }
}
