using System;
using System.Collections.Immutable;
using Ioasid.Analyzers.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.Analyzers.Rules.IOA003;

/// <summary>
/// IOA003: a driver's domain (a class with <c>[IommuDomainOps]</c> or deriving from <c>IommuDomain</c>) holds a field or
/// property of a per-device table type: one marked <c>[PerDeviceTable]</c>, or whose name ends like a PASID table, a PASID
/// directory or a context-descriptor table (also as an array element or a type argument). An entry type
/// (<c>PasidTableEntry</c>, a CD template) is not a table and is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PerDeviceTableInDomainAnalyzer : IoasidAnalyzer
{
    private static readonly string[] TableNames = ["PasidTable", "PasidDirectory", "CdTable", "ContextDescriptorTable"];

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.IOA003_PerDeviceTableInDomain);

    private protected override void AnalyzeCompilation(CompilationStartAnalysisContext context, IoasidSymbols symbols)
        => context.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.Field, SymbolKind.Property);

    private static void Analyze(SymbolAnalysisContext context, IoasidSymbols symbols)
    {
        var member = context.Symbol;
        if (member.IsImplicitlyDeclared || member.IsStatic || member.ContainingType is not { } domain || !symbols.IsDomainType(domain))
        {
            return;
        }

        var type = member switch
        {
            IFieldSymbol field => field.Type,
            IPropertySymbol property => property.Type,
            _ => null,
        };
        if (FindTable(type, symbols, depth: 0) is { } table && member.Locations.Length > 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.IOA003_PerDeviceTableInDomain, member.Locations[0],
                domain.Name, member.Name, table.Name));
        }
    }

    private static ITypeSymbol? FindTable(ITypeSymbol? type, IoasidSymbols symbols, int depth)
    {
        if (type is null || depth > 3)
        {
            return null;
        }

        if (type is IArrayTypeSymbol array)
        {
            return FindTable(array.ElementType, symbols, depth + 1);
        }

        if (IsTable(type, symbols))
        {
            return type;
        }

        if (type is INamedTypeSymbol { IsGenericType: true } generic)
        {
            foreach (var argument in generic.TypeArguments)
            {
                if (FindTable(argument, symbols, depth + 1) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    private static bool IsTable(ITypeSymbol type, IoasidSymbols symbols)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (IoasidSymbols.HasAttribute(t, symbols.PerDeviceTableAttribute))
            {
                return true;
            }
        }

        foreach (var name in TableNames)
        {
            if (type.Name.EndsWith(name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
