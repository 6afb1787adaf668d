using System;
using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA006;

/// <summary>
/// IOA006: an IOVA turned into a physical address, or the reverse, through the raw value: <c>new PhysAddr(iova.Value)</c>,
/// <c>Iova.From(pa.Value + offset)</c>. Bit arithmetic (masking an offset into a frame) is translation and is not reported;
/// neither is code of an identity domain (a type or method named *Identity*, or a domain built as IommuDomainType.Identity),
/// where IOVA equals physical address by definition.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class IovaPhysAddrMixedAnalyzer : IoasidAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA006_IovaPhysAddrMixed);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.Iova is null || symbols.PhysAddr is null)
        {
            return;
        }

        context.RegisterOperationAction(c =>
        {
            var creation = (IObjectCreationOperation)c.Operation;
            if (creation.Arguments.Length == 1)
            {
                Check(c, symbols, creation.Type, creation.Arguments[0].Value);
            }
        }, OperationKind.ObjectCreation);
        context.RegisterOperationAction(c =>
        {
            var invocation = (IInvocationOperation)c.Operation;
            if (invocation.TargetMethod is { IsStatic: true, Name: "From" } && invocation.Arguments.Length == 1)
            {
                Check(c, symbols, invocation.TargetMethod.ContainingType, invocation.Arguments[0].Value);
            }
        }, OperationKind.Invocation);
    }

    private static void Check(OperationAnalysisContext context, IoasidSymbols symbols, ITypeSymbol? built, IOperation argument)
    {
        var other = IoasidSymbols.Is(built, symbols.PhysAddr) ? symbols.Iova : IoasidSymbols.Is(built, symbols.Iova) ? symbols.PhysAddr : null;
        if (other is null || !IsRawValueOf(argument, other) || IsIdentityDomainCode(context.ContainingSymbol, symbols)
            || IsUnderIdentityCheck(context.Operation, symbols))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA006_IovaPhysAddrMixed, context.Operation.Syntax.GetLocation(),
            built!.Name, other.Name));
    }

    // x.Value, or x.Value plus or minus something: an address moved, not translated.
    private static bool IsRawValueOf(IOperation operation, ITypeSymbol other)
    {
        var op = OriginTracker.Strip(operation);
        return op switch
        {
            IPropertyReferenceOperation { Property.Name: "Value", Instance: { } instance } => IoasidSymbols.Is(instance.Type, other),
            IBinaryOperation { OperatorKind: BinaryOperatorKind.Add or BinaryOperatorKind.Subtract } binary
                => IsRawValueOf(binary.LeftOperand, other) || IsRawValueOf(binary.RightOperand, other),
            _ => false,
        };
    }

    // if (domain.Type == IommuDomainType.Identity) { ... } or the ?: equivalent: the identity branch of a general routine.
    private static bool IsUnderIdentityCheck(IOperation operation, IoasidSymbols symbols)
    {
        for (IOperation? child = operation, parent = operation.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            if (parent is IConditionalOperation conditional && conditional.WhenTrue == child && MentionsIdentity(conditional.Condition, symbols))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MentionsIdentity(IOperation condition, IoasidSymbols symbols)
        => condition.DescendantsAndSelf().OfType<IFieldReferenceOperation>()
            .Any(f => f.Field.Name == "Identity" && IoasidSymbols.Is(f.Field.ContainingType, symbols.IommuDomainType));

    private static bool IsIdentityDomainCode(ISymbol symbol, IoasidSymbols symbols)
    {
        for (var s = symbol; s is not null and not INamespaceSymbol; s = s.ContainingSymbol)
        {
            if (s.Name.IndexOf("Identity", StringComparison.Ordinal) >= 0)
            {
                return true;
            }

            if (s is INamedTypeSymbol type && IoasidSymbols.DerivesFrom(type, symbols.IommuDomain) && BuiltAsIdentity(type))
            {
                return true;
            }
        }

        return false;
    }

    // A domain whose constructor passes IommuDomainType.Identity to the IommuDomain constructor.
    private static bool BuiltAsIdentity(INamedTypeSymbol type)
        => type.InstanceConstructors.SelectMany(c => c.DeclaringSyntaxReferences)
            .Select(r => r.GetSyntax())
            .OfType<ConstructorDeclarationSyntax>()
            .Any(c => c.Initializer?.ArgumentList.Arguments.Any(a => a.Expression.ToString().EndsWith("IommuDomainType.Identity", StringComparison.Ordinal)) == true);
}
