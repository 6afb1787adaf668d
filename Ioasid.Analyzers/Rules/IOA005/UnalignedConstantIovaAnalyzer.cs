using System.Collections.Immutable;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA005;

/// <summary>
/// IOA005: a constant IOVA or length that is not a multiple of 4 KiB, passed to a map, unmap or copy
/// (Ioas.Map/MapFile/CopyFrom/Unmap, IommuCore.Map/Unmap). The smallest IOMMU page and the IOAS's minimum IOVA
/// alignment are 4 KiB, so the call can only fail with EINVAL.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnalignedConstantIovaAnalyzer : IoasidAnalyzer
{
    /// <summary>Diagnostic property: the aligned constant (IOVA rounded down, length rounded up) as source text.</summary>
    public const string AlignedProperty = "Aligned";

    private const ulong PageSize = 4096;

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA005_UnalignedConstantIova);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.Ioas is null && symbols.IommuCore is null)
        {
            return;
        }

        context.RegisterOperationAction(c => Analyze(c, symbols), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, IoasidSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var isIoas = IoasidSymbols.Is(method.ContainingType, symbols.Ioas) && method.Name is "Map" or "MapFile" or "CopyFrom" or "Unmap";
        var isCore = IoasidSymbols.Is(method.ContainingType, symbols.IommuCore) && method.Name is "Map" or "Unmap";
        if (!isIoas && !isCore)
        {
            return;
        }

        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue || argument.Parameter is not { } parameter)
            {
                continue;
            }

            switch (parameter.Name)
            {
                case "iova" or "sourceIova" when IoasidSymbols.Is(parameter.Type, symbols.Iova):
                    CheckIova(context, argument.Value, parameter.Name, method);
                    break;
                case "length" or "size" when parameter.Type.SpecialType == SpecialType.System_UInt64:
                    CheckLength(context, argument.Value, parameter.Name, method);
                    break;
            }
        }
    }

    private static void CheckIova(OperationAnalysisContext context, IOperation value, string parameter, IMethodSymbol method)
    {
        // Report on the raw constant inside new Iova(c) / Iova.From(c), which is what the fix rewrites.
        var constant = OriginTracker.Strip(value) switch
        {
            IObjectCreationOperation { Arguments.Length: 1 } creation => creation.Arguments[0].Value,
            IInvocationOperation { TargetMethod.Name: "From", Arguments.Length: 1 } from => from.Arguments[0].Value,
            _ => null,
        };
        if (HandleConstants.Unsigned(constant?.ConstantValue ?? default) is { } raw && raw % PageSize != 0)
        {
            Report(context, constant!, parameter, method, raw, raw / PageSize * PageSize);
        }
    }

    private static void CheckLength(OperationAnalysisContext context, IOperation value, string parameter, IMethodSymbol method)
    {
        if (HandleConstants.Unsigned(value.ConstantValue) is { } raw && raw % PageSize != 0 && raw <= ulong.MaxValue - PageSize)
        {
            Report(context, value, parameter, method, raw, (raw / PageSize + 1) * PageSize);
        }
    }

    private static void Report(OperationAnalysisContext context, IOperation constant, string parameter, IMethodSymbol method, ulong raw, ulong aligned)
    {
        var properties = ImmutableDictionary<string, string?>.Empty.Add(AlignedProperty, Literals.Format(aligned, constant.Syntax.ToString()));
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA005_UnalignedConstantIova, constant.Syntax.GetLocation(), properties,
            parameter, $"{method.ContainingType.Name}.{method.Name}", "0x" + raw.ToString("x", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
