using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA002;

/// <summary>
/// IOA002: attach treats the iommu group as the unit. Reported for an attach (IommufdDevice.Attach/Replace,
/// IommuCore.SetPasid/SetGroupDomain) of a device taken from a group's device list (a loop or a lambda over
/// <c>group.Devices</c>), and for <c>IommuCore.SetGroupDomain</c> given a group that was not taken from the device
/// being attached.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GroupCentricAttachAnalyzer : IoasidAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA002_GroupCentricAttach);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.IommuCore is null)
        {
            return;
        }

        context.RegisterOperationBlockStartAction(block =>
        {
            var trackers = new TrackerCache(symbols);
            block.RegisterOperationAction(c => Analyze(c, symbols, trackers), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, IoasidSymbols symbols, TrackerCache trackers)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        IOperation? device = null;
        if (IoasidSymbols.Is(method.ContainingType, symbols.IommufdDevice) && method.Name is "Attach" or "Replace")
        {
            device = invocation.Instance;
        }
        else if (IoasidSymbols.Is(method.ContainingType, symbols.IommuCore) && method.Name is "SetPasid" or "SetGroupDomain" && invocation.Arguments.Length > 0)
        {
            device = invocation.Arguments[0].Value;
        }

        if (device is null)
        {
            return;
        }

        var tracker = trackers.For(invocation);
        var call = $"{method.ContainingType.Name}.{method.Name}";
        if (tracker.Of(device).Has(OriginKind.GroupMember))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA002_GroupCentricAttach, invocation.Syntax.GetLocation(),
                $"'{call}' runs for each device of an iommu group"));
            return;
        }

        if (method.Name == "SetGroupDomain" && !IsDevicesGroup(device, tracker, symbols))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA002_GroupCentricAttach, invocation.Syntax.GetLocation(),
                $"'{call}' is given a group that no device being attached was asked for"));
        }
    }

    // device.Group (IommuDevice.Group), directly or through locals that only ever hold one.
    private static bool IsDevicesGroup(IOperation group, OriginTracker tracker, IoasidSymbols symbols)
    {
        var op = OriginTracker.Strip(group);
        return op switch
        {
            IPropertyReferenceOperation property => property.Property.Name == "Group" && IoasidSymbols.Is(property.Property.ContainingType, symbols.IommuDevice),
            ILocalReferenceOperation local => tracker.WritesOf(local.Local) is { Count: > 0 } writes && writes.All(w => IsDevicesGroup(w, tracker, symbols)),
            _ => false,
        };
    }
}
