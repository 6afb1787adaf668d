using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.Analyzers;

/// <summary>
/// The base of every Ioasid analyzer. It seals <see cref="Initialize"/>: generated code is skipped, analysis runs
/// concurrently, Ioasid's well-known types are resolved once per compilation, and compilations that do not
/// reference Ioasid are skipped before any rule runs.
/// </summary>
public abstract class IoasidAnalyzer : DiagnosticAnalyzer
{
    private protected IoasidAnalyzer()
    {
    }

    /// <inheritdoc />
    public sealed override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (IoasidSymbols.TryCreate(start.Compilation) is { } symbols)
            {
                AnalyzeCompilation(start, symbols);
            }
        });
    }

    /// <summary>Registers the rule's actions for a compilation that references Ioasid.</summary>
    private protected abstract void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols);
}
