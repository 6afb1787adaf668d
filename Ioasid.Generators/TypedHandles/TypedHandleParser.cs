using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Ioasid.Generators.Common;
using Ioasid.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ioasid.Generators.TypedHandles;

/// <summary>
/// Turns one struct carrying [TypedHandle&lt;T&gt;] into a <see cref="TypedHandleResult"/>. This is the only
/// place that looks at symbols; what it returns holds no symbol or syntax.
/// </summary>
internal static class TypedHandleParser
{
    public const string AttributeMetadataName = "Ioasid.TypedHandleAttribute`1";
    private const string ConstantAttributeMetadataName = "Ioasid.HandleConstantAttribute";

    public static bool IsCandidate(SyntaxNode node, CancellationToken _) => node is StructDeclarationSyntax;

    public static TypedHandleResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (StructDeclarationSyntax)context.TargetNode;
        var attribute = context.Attributes[0];
        var diagnostics = new List<DiagnosticInfo>();
        var name = symbol.Name;

        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG001_HandleNotPartial, syntax.Identifier.GetLocation(), name));
        }

        if (symbol.ContainingType is { } container)
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG005_HandleNested, syntax.Identifier.GetLocation(), name, container.Name));
        }

        var typeArgument = attribute.AttributeClass!.TypeArguments[0];
        UnderlyingKind? underlying = typeArgument.SpecialType switch
        {
            SpecialType.System_Byte => UnderlyingKind.Byte,
            SpecialType.System_UInt16 => UnderlyingKind.UInt16,
            SpecialType.System_UInt32 => UnderlyingKind.UInt32,
            SpecialType.System_UInt64 => UnderlyingKind.UInt64,
            _ => null,
        };
        var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation();
        if (underlying is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG002_HandleUnsupportedUnderlyingType, attributeLocation, name,
                typeArgument.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
            return new TypedHandleResult(null, diagnostics.ToEquatableArray());
        }

        var typeMax = TypedHandleModel.MaxOf(underlying.Value);
        var min = NamedULong(attribute, "Min") ?? 0;
        var max = NamedULong(attribute, "Max") ?? typeMax;
        var format = (HandleTextFormat)(NamedInt(attribute, "Format") ?? 0);
        if (min > max || max > typeMax)
        {
            diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG003_HandleInvalidRange, attributeLocation, name,
                Hex(min), Hex(max), typeArgument.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        }

        var constants = ParseConstants(symbol, name, min, max, diagnostics, cancellationToken);
        if (diagnostics.Count > 0)
        {
            return new TypedHandleResult(null, diagnostics.ToEquatableArray());
        }

        var ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
        var model = new TypedHandleModel(ns, name, symbol.IsReadOnly, underlying.Value, min, max, format, constants);
        return new TypedHandleResult(model, EquatableArray<DiagnosticInfo>.Empty);
    }

    private static EquatableArray<HandleConstantModel> ParseConstants(
        INamedTypeSymbol symbol, string handleName, ulong min, ulong max, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var constants = new List<HandleConstantModel>();
        var seen = new HashSet<string>();
        foreach (var data in symbol.GetAttributes())
        {
            if (data.AttributeClass?.ToDisplayString() != ConstantAttributeMetadataName || data.ConstructorArguments.Length != 2)
            {
                continue;
            }

            var constantName = data.ConstructorArguments[0].Value as string ?? string.Empty;
            var value = data.ConstructorArguments[1].Value is ulong v ? v : 0;
            var summary = data.NamedArguments.FirstOrDefault(a => a.Key == "Summary").Value.Value as string;
            var location = data.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation();
            if (!seen.Add(constantName))
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG006_HandleDuplicateConstant, location, handleName, constantName));
                continue;
            }

            if (value < min || value > max)
            {
                diagnostics.Add(DiagnosticInfo.Create(GeneratorDiagnostics.IOAG004_HandleConstantOutOfRange, location,
                    constantName, handleName, Hex(value), Hex(min), Hex(max)));
                continue;
            }

            constants.Add(new HandleConstantModel(constantName, value, summary));
        }

        return constants.ToEquatableArray();
    }

    private static ulong? NamedULong(AttributeData attribute, string name)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is ulong value)
            {
                return value;
            }
        }

        return null;
    }

    private static int? NamedInt(AttributeData attribute, string name)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is int value)
            {
                return value;
            }
        }

        return null;
    }

    private static string Hex(ulong value) => "0x" + value.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
}
