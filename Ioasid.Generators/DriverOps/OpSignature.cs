using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Compares an op member with the op's delegate (the signatures in <c>Ioasid.Core/Iommu/OpDelegates.cs</c>) and
/// describes the expected signature for IOAG012. Types must be identical, <c>ref</c>/<c>out</c>/<c>in</c> must match,
/// and nullable annotations must not make the generated conversion warn (a parameter the delegate may pass null to
/// must accept null; a result the delegate promises non-null must not be nullable).
/// </summary>
internal static class OpSignature
{
    /// <summary>Short type names with <c>?</c>, for messages.</summary>
    public static readonly SymbolDisplayFormat MessageFormat = SymbolDisplayFormat.MinimallyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary><c>global::</c> names with <c>?</c>, for generated code.</summary>
    public static readonly SymbolDisplayFormat CodeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// Whether <paramref name="method"/> can implement <paramref name="invoke"/> (a delegate's Invoke method); the
    /// first <paramref name="skip"/> delegate parameters are checked by the caller (the domain parameter).
    /// </summary>
    public static bool Matches(IMethodSymbol method, IMethodSymbol invoke, int skip)
    {
        if (method.IsGenericMethod || method.ReturnsByRef || method.ReturnsByRefReadonly ||
            method.Parameters.Length != invoke.Parameters.Length)
        {
            return false;
        }

        if (!invoke.ReturnsVoid || !method.ReturnsVoid)
        {
            if (invoke.ReturnsVoid != method.ReturnsVoid || !SameType(method.ReturnType, invoke.ReturnType, output: true, input: false))
            {
                return false;
            }
        }

        for (var i = skip; i < invoke.Parameters.Length; i++)
        {
            var actual = method.Parameters[i];
            var expected = invoke.Parameters[i];
            if (actual.RefKind != expected.RefKind ||
                !SameType(actual.Type, expected.Type, output: expected.RefKind is RefKind.Out or RefKind.Ref, input: expected.RefKind != RefKind.Out))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The signature <paramref name="invoke"/> asks of a member named <paramref name="name"/>, e.g.
    /// <c>'IommuUnit Probe(IommuDevice device)'</c>; with <paramref name="domainType"/>, a static method whose first
    /// parameter is that domain class.
    /// </summary>
    public static string Describe(IMethodSymbol invoke, string name, ITypeSymbol? domainType)
    {
        var text = new StringBuilder("'");
        if (domainType is not null)
        {
            text.Append("static ");
        }

        text.Append(invoke.ReturnsVoid ? "void" : invoke.ReturnType.ToDisplayString(MessageFormat))
            .Append(' ').Append(name).Append('(');
        for (var i = 0; i < invoke.Parameters.Length; i++)
        {
            var parameter = invoke.Parameters[i];
            if (i > 0)
            {
                text.Append(", ");
            }

            var type = i == 0 && domainType is not null ? domainType : parameter.Type;
            text.Append(Modifier(parameter.RefKind)).Append(type.ToDisplayString(MessageFormat)).Append(' ').Append(parameter.Name);
        }

        return text.Append(")'").ToString();
    }

    /// <summary>The C# modifier of a parameter passed by reference, with a trailing space.</summary>
    public static string Modifier(RefKind refKind) => refKind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        _ => string.Empty,
    };

    /// <summary>A parameter name usable in generated code (<c>@event</c> for a keyword).</summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
            ? "@" + name
            : name;

    /// <summary>Whether <paramref name="type"/> is <paramref name="baseType"/> or derives from it.</summary>
    public static bool IsOrDerivesFrom(ITypeSymbol type, INamedTypeSymbol baseType)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, baseType))
            {
                return true;
            }
        }

        return false;
    }

    // Identical types; in code with nullable annotations, also identical nested annotations, and a top-level
    // annotation that flows without a warning in the directions the value travels.
    private static bool SameType(ITypeSymbol actual, ITypeSymbol expected, bool output, bool input)
    {
        if (!SymbolEqualityComparer.Default.Equals(actual, expected))
        {
            return false;
        }

        if (actual.NullableAnnotation == NullableAnnotation.None)
        {
            return true;   // nullable-oblivious code: the conversion cannot warn
        }

        if (!SymbolEqualityComparer.IncludeNullability.Equals(
                actual.WithNullableAnnotation(NullableAnnotation.NotAnnotated),
                expected.WithNullableAnnotation(NullableAnnotation.NotAnnotated)))
        {
            return false;
        }

        var actualNullable = actual.NullableAnnotation == NullableAnnotation.Annotated;
        var expectedNullable = expected.NullableAnnotation == NullableAnnotation.Annotated;
        return !(input && expectedNullable && !actualNullable) && !(output && actualNullable && !expectedNullable);
    }

    /// <summary>The first parameter of a domain op, when it is the domain class or one of its bases up to <c>IommuDomain</c>.</summary>
    public static bool IsDomainParameter(IParameterSymbol parameter, INamedTypeSymbol domainClass, INamedTypeSymbol iommuDomain) =>
        parameter.RefKind == RefKind.None &&
        parameter.Type is INamedTypeSymbol type &&
        IsOrDerivesFrom(domainClass, type) &&
        IsOrDerivesFrom(type, iommuDomain);
}
