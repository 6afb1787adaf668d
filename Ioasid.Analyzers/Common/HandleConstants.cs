using System;
using System.Linq;
using Ioasid.Analyzers.Flow;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers;

/// <summary>The valid raw range of a typed handle, as its <c>[TypedHandle&lt;T&gt;]</c> declares it.</summary>
internal readonly struct HandleRange
{
    public HandleRange(ulong min, ulong max)
    {
        Min = min;
        Max = max;
    }

    public ulong Min { get; }

    public ulong Max { get; }

    public bool Contains(ulong value) => value >= Min && value <= Max;
}

/// <summary>Reads typed handles' ranges and the compile-time raw value of handle expressions.</summary>
internal static class HandleConstants
{
    /// <summary>The range of <paramref name="type"/> when it is a typed handle (carries <c>[TypedHandle&lt;T&gt;]</c>).</summary>
    public static HandleRange? RangeOf(ITypeSymbol? type)
    {
        var attribute = type?.GetAttributes().FirstOrDefault(a => a.AttributeClass is { Name: "TypedHandleAttribute", IsGenericType: true }
            && a.AttributeClass.ContainingNamespace?.ToDisplayString() == "Ioasid");
        if (attribute?.AttributeClass is not { } attributeClass)
        {
            return null;
        }

        var underlyingMax = attributeClass.TypeArguments[0].SpecialType switch
        {
            SpecialType.System_Byte => byte.MaxValue,
            SpecialType.System_UInt16 => ushort.MaxValue,
            SpecialType.System_UInt32 => uint.MaxValue,
            _ => ulong.MaxValue,
        };
        ulong min = 0;
        var max = underlyingMax;
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Value.Value is ulong value)
            {
                if (named.Key == "Min")
                {
                    min = value;
                }
                else if (named.Key == "Max")
                {
                    max = Math.Min(value, underlyingMax);
                }
            }
        }

        return new HandleRange(min, max);
    }

    /// <summary>
    /// The raw value of a handle expression known at compile time: <c>new H(c)</c>, <c>H.From(c)</c>, a named constant
    /// (<c>Pasid.NoPasid</c>), <c>H.MinValue</c>/<c>H.MaxValue</c>, or <c>default</c>. Null when it is not constant.
    /// </summary>
    public static ulong? RawValue(IOperation? operation)
    {
        var op = OriginTracker.Strip(operation);
        switch (op)
        {
            case IDefaultValueOperation when RangeOf(op.Type) is not null:
                return 0;
            case IObjectCreationOperation { Arguments.Length: 1 } creation when RangeOf(creation.Type) is not null:
                return Unsigned(creation.Arguments[0].Value.ConstantValue);
            case IObjectCreationOperation { Arguments.Length: 0 } creation when RangeOf(creation.Type) is not null:
                return 0;
            case IInvocationOperation { TargetMethod: { Name: "From", IsStatic: true }, Arguments.Length: 1 } from when RangeOf(from.Type) is not null:
                return Unsigned(from.Arguments[0].Value.ConstantValue);
            case IFieldReferenceOperation { Field.IsStatic: true } field when RangeOf(field.Type) is not null:
                return NamedConstant(field.Field.ContainingType, field.Field.Name);
            case IPropertyReferenceOperation { Property.IsStatic: true } property when RangeOf(property.Type) is { } range:
                return property.Property.Name switch
                {
                    "MinValue" => range.Min,
                    "MaxValue" => range.Max,
                    _ => null,
                };
            default:
                return null;
        }
    }

    /// <summary>The value of a constant that fits an unsigned 64-bit number (negative constants are not).</summary>
    public static ulong? Unsigned(Optional<object?> constant) => constant.HasValue ? constant.Value switch
    {
        byte b => b,
        ushort u => u,
        uint u => u,
        ulong u => u,
        sbyte s when s >= 0 => (ulong)s,
        short s when s >= 0 => (ulong)s,
        int i when i >= 0 => (ulong)i,
        long l when l >= 0 => (ulong)l,
        char c => c,
        _ => null,
    } : null;

    private static ulong? NamedConstant(INamedTypeSymbol handle, string name)
    {
        foreach (var attribute in handle.GetAttributes())
        {
            if (attribute.AttributeClass?.Name == "HandleConstantAttribute" && attribute.ConstructorArguments.Length == 2
                && attribute.ConstructorArguments[0].Value is string constantName && constantName == name
                && attribute.ConstructorArguments[1].Value is ulong value)
            {
                return value;
            }
        }

        return null;
    }
}
