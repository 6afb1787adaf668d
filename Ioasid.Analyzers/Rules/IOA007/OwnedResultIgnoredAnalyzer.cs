using System.Collections.Immutable;
using System.Linq;
using Ioasid.Analyzers.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Rules.IOA007;

/// <summary>
/// IOA007: the result of a <c>[MustUseResult]</c> method (the kernel's <c>__must_check</c>) is dropped by an expression
/// statement. An assignment to a discard is a deliberate drop and is not reported; neither is a call that passes the
/// attribute's <c>UnlessArgument</c> (e.g. a map at a fixed IOVA, which returns that IOVA).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OwnedResultIgnoredAnalyzer : IoasidAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA007_OwnedResultIgnored);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
    {
        if (symbols.MustUseResultAttribute is not { } attribute)
        {
            return;
        }

        context.RegisterOperationAction(c => Analyze(c, attribute, symbols), OperationKind.ExpressionStatement);
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol attributeType, IoasidSymbols symbols)
    {
        var statement = (IExpressionStatementOperation)context.Operation;
        if (statement.IsImplicit)
        {
            return; // an expression-bodied lambda given as an Action (Assert.Throws(() => Alloc())): nothing was written to keep
        }

        var operation = statement.Operation;
        while (operation is IConditionalAccessOperation access)
        {
            operation = access.WhenNotNull;
        }

        if (operation is not IInvocationOperation invocation)
        {
            return;
        }

        var method = invocation.TargetMethod;
        var attribute = method.GetAttributes().FirstOrDefault(a => IoasidSymbols.Is(a.AttributeClass, attributeType));
        if (attribute is null)
        {
            return;
        }

        var unless = attribute.NamedArguments.FirstOrDefault(n => n.Key == "UnlessArgument").Value.Value as string;
        if (unless is not null && invocation.Arguments.Any(a => a.Parameter?.Name == unless && a.ArgumentKind != ArgumentKind.DefaultValue))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA007_OwnedResultIgnored, invocation.Syntax.GetLocation(),
            $"{method.ContainingType.Name}.{method.Name}", WhatItOwns(method.ReturnType, symbols)));
    }

    private static string WhatItOwns(ITypeSymbol type, IoasidSymbols symbols)
    {
        if (type.Name == "Errno")
        {
            return "pins exactly when it is Errno.None";
        }

        return IoasidSymbols.Is(type, symbols.Iova) ? "the IOVA the kernel chose" : $"the new {type.Name}";
    }
}
