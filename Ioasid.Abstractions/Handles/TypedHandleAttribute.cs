using System;

namespace Ioasid;

/// <summary>
/// Marks a <c>readonly partial struct</c> as a typed handle over the unsigned integer <typeparamref name="T"/>.
/// Ioasid's source generator completes the struct with a validating constructor, equality, ordering,
/// formatting and parsing, so that, for example, a <see cref="Pasid"/> can never be passed where a
/// <see cref="Rid"/> is meant.
/// </summary>
/// <typeparam name="T">The underlying value: <see cref="byte"/>, <see cref="ushort"/>, <see cref="uint"/> or <see cref="ulong"/>.</typeparam>
[AttributeUsage(AttributeTargets.Struct, Inherited = false, AllowMultiple = false)]
public sealed class TypedHandleAttribute<T> : Attribute
    where T : unmanaged
{
    /// <summary>The smallest valid raw value (inclusive). Defaults to 0.</summary>
    public ulong Min { get; set; }

    /// <summary>The largest valid raw value (inclusive). Defaults to the largest value of <typeparamref name="T"/>.</summary>
    public ulong Max { get; set; } = ulong.MaxValue;

    /// <summary>How the handle is written and read as text. Defaults to <see cref="HandleFormat.Decimal"/>.</summary>
    public HandleFormat Format { get; set; } = HandleFormat.Decimal;
}

/// <summary>The text form of a typed handle.</summary>
public enum HandleFormat
{
    /// <summary>Decimal digits, e.g. <c>42</c>.</summary>
    Decimal = 0,

    /// <summary>Lower-case hexadecimal with a <c>0x</c> prefix, e.g. <c>0x1000</c>; parsing also accepts decimal.</summary>
    Hex = 1,

    /// <summary>
    /// The struct supplies its own text form by implementing the partial methods
    /// <c>TryFormatValue(T, Span&lt;char&gt;, out int)</c> and <c>TryParseValue(ReadOnlySpan&lt;char&gt;, out T)</c>
    /// that the generator declares.
    /// </summary>
    Custom = 2,
}

/// <summary>
/// Declares a named constant of a typed handle, e.g. <c>Pasid.NoPasid</c>. The generator emits a
/// <c>public static readonly</c> field of the handle type with <see cref="Summary"/> as its documentation.
/// </summary>
[AttributeUsage(AttributeTargets.Struct, Inherited = false, AllowMultiple = true)]
public sealed class HandleConstantAttribute : Attribute
{
    /// <summary>Declares the constant <paramref name="name"/> with raw value <paramref name="value"/>.</summary>
    /// <param name="name">The C# name of the constant.</param>
    /// <param name="value">The raw value; it must lie in the handle's range.</param>
    public HandleConstantAttribute(string name, ulong value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The C# name of the constant.</summary>
    public string Name { get; }

    /// <summary>The raw value of the constant.</summary>
    public ulong Value { get; }

    /// <summary>One sentence saying what the constant means; becomes its XML documentation.</summary>
    public string? Summary { get; set; }
}
