using System.Collections.Immutable;
using Ioasid.Analyzers.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA004;

/// <summary>
/// IOA004: a typed handle built from a constant its generated validation refuses: <c>new H(c)</c> or <c>H.From(c)</c>
/// with <c>c</c> outside the range of <c>[TypedHandle&lt;T&gt;]</c> (a PASID above 20 bits, a zero IoasidId or
/// DomainHandle), an explicit <c>default(H)</c> of a handle whose range excludes 0, and <c>Rid.Create</c> with a
/// constant device above 31 or function above 7.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HandleConstantOutOfRangeAnalyzer : IoasidAnalyzer
{
    /// <summary>Diagnostic property: the in-range constant a code fix puts in place of the reported expression.</summary>
    public const string ReplacementProperty = "Replacement";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA004_HandleConstantOutOfRange);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        context.RegisterOperationAction(c => AnalyzeCreation(c), OperationKind.ObjectCreation);
        context.RegisterOperationAction(c => AnalyzeInvocation(c, symbols), OperationKind.Invocation);
        context.RegisterOperationAction(c => AnalyzeDefault(c), OperationKind.DefaultValue);
    }

    private static void AnalyzeCreation(OperationAnalysisContext context)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (creation.Arguments.Length == 1 && HandleConstants.RangeOf(creation.Type) is { } range)
        {
            Check(context, creation.Arguments[0].Value, range, $"The {creation.Type!.Name} value");
        }
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, IoasidSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method is { IsStatic: true, Name: "From" } && invocation.Arguments.Length == 1 && HandleConstants.RangeOf(method.ContainingType) is { } range
            && SymbolEqualityComparer.Default.Equals(method.ReturnType, method.ContainingType))
        {
            Check(context, invocation.Arguments[0].Value, range, $"The {method.ContainingType.Name} value");
            return;
        }

        if (method is { IsStatic: true, Name: "Create" } && IoasidSymbols.Is(method.ContainingType, symbols.Rid))
        {
            foreach (var argument in invocation.Arguments)
            {
                switch (argument.Parameter?.Name)
                {
                    case "device":
                        Check(context, argument.Value, new HandleRange(0, 31), "The PCI device number");
                        break;
                    case "function":
                        Check(context, argument.Value, new HandleRange(0, 7), "The PCI function number");
                        break;
                }
            }
        }
    }

    private static void AnalyzeDefault(OperationAnalysisContext context)
    {
        var operation = (IDefaultValueOperation)context.Operation;
        if (operation.IsImplicit || IsParameterDefault(operation) || HandleConstants.RangeOf(operation.Type) is not { Min: > 0 } range)
        {
            return;
        }

        var properties = ImmutableDictionary<string, string?>.Empty.Add(ReplacementProperty, $"{operation.Type!.Name}.MinValue");
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA004_HandleConstantOutOfRange, operation.Syntax.GetLocation(), properties,
            $"The {operation.Type!.Name} value", "0 (default)", Literals.Display(range.Min), Literals.Display(range.Max)));
    }

    private static void Check(OperationAnalysisContext context, IOperation value, HandleRange range, string what)
    {
        if (!value.ConstantValue.HasValue)
        {
            return;
        }

        var raw = HandleConstants.Unsigned(value.ConstantValue);
        if (raw is { } v && range.Contains(v))
        {
            return;
        }

        // The nearest valid value that keeps the caller's low bits: mask to the range when it is a power-of-two span, else the minimum.
        var replacement = raw is { } r && IsMask(range.Max) && range.Contains(r & range.Max) ? r & range.Max : range.Min;
        var properties = ImmutableDictionary<string, string?>.Empty.Add(ReplacementProperty, Literals.Format(replacement, value.Syntax.ToString()));
        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA004_HandleConstantOutOfRange, value.Syntax.GetLocation(), properties,
            what, raw is { } shown ? Literals.Display(shown) : value.ConstantValue.Value?.ToString() ?? "null", Literals.Display(range.Min), Literals.Display(range.Max)));
    }

    // A parameter's default value declares an optional argument; it is not a handle built in code.
    private static bool IsParameterDefault(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IParameterInitializerOperation)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsMask(ulong max) => (max & (max + 1)) == 0;
}
