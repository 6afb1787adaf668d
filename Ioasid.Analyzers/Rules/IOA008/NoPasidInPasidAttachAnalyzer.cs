using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA008;

/// <summary>
/// IOA008: the constant IOMMU_NO_PASID (0) given where only a real PASID is accepted: the PASID attach path of the
/// IOMMU core (<c>IommuCore.SetPasid</c>, as <c>iommu_attach_device_pasid</c>, which returns EINVAL for it) and a
/// mediated device's PASID (<c>new MediatedDevice(parent, name, Pasid.NoPasid)</c> throws). The RID's own address
/// space goes through the RID path (<c>IommufdDevice.Attach(id)</c>, <c>SetGroupDomain</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NoPasidInPasidAttachAnalyzer : IoasidAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA008_NoPasidInPasidAttach);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.IommuCore is null && symbols.MediatedDevice is null)
        {
            return;
        }

        context.RegisterOperationAction(c =>
        {
            var invocation = (IInvocationOperation)c.Operation;
            if (IoasidSymbols.Is(invocation.TargetMethod.ContainingType, symbols.IommuCore) && invocation.TargetMethod.Name == "SetPasid")
            {
                Check(c, invocation.Arguments, "IommuCore.SetPasid");
            }
        }, OperationKind.Invocation);
        context.RegisterOperationAction(c =>
        {
            var creation = (IObjectCreationOperation)c.Operation;
            if (IoasidSymbols.Is(creation.Type, symbols.MediatedDevice))
            {
                Check(c, creation.Arguments, "A mediated device");
            }
        }, OperationKind.ObjectCreation);
    }

    private static void Check(OperationAnalysisContext context, ImmutableArray<IArgumentOperation> arguments, string what)
    {
        var pasid = arguments.FirstOrDefault(a => a.Parameter?.Name == "pasid");
        if (pasid is null || pasid.ArgumentKind == ArgumentKind.DefaultValue)
        {
            return;
        }

        var value = pasid.Value;
        while (value is IConversionOperation { OperatorMethod: null } conversion)
        {
            value = conversion.Operand; // Pasid → Pasid? for the mdev constructor
        }

        if (HandleConstants.RawValue(value) is 0UL)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA008_NoPasidInPasidAttach, pasid.Value.Syntax.GetLocation(), what));
        }
    }
}
