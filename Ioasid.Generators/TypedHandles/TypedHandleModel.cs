using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles;

/// <summary>The unsigned integer a typed handle wraps.</summary>
internal enum UnderlyingKind
{
    Byte,
    UInt16,
    UInt32,
    UInt64,
}

/// <summary>Mirrors Ioasid.HandleFormat (the generator never references the runtime assembly).</summary>
internal enum HandleTextFormat
{
    Decimal = 0,
    Hex = 1,
    Custom = 2,
}

/// <summary>A named constant of a handle, from one [HandleConstant] attribute.</summary>
internal sealed record HandleConstantModel(string Name, ulong Value, string? Summary);

/// <summary>Everything the emitter needs to write one handle; values only, so it caches.</summary>
internal sealed record TypedHandleModel(
    string? Namespace,
    string Name,
    bool IsReadOnly,
    UnderlyingKind Underlying,
    ulong Min,
    ulong Max,
    HandleTextFormat Format,
    EquatableArray<HandleConstantModel> Constants)
{
    /// <summary>The C# keyword of the underlying type.</summary>
    public string UnderlyingKeyword => Underlying switch
    {
        UnderlyingKind.Byte => "byte",
        UnderlyingKind.UInt16 => "ushort",
        UnderlyingKind.UInt32 => "uint",
        _ => "ulong",
    };

    /// <summary>The largest value of the underlying type.</summary>
    public ulong TypeMax => MaxOf(Underlying);

    public bool HasLowerBound => Min != 0;

    public bool HasUpperBound => Max != TypeMax;

    /// <summary>A literal of the underlying type for <paramref name="value"/>.</summary>
    public string Literal(ulong value) => Underlying switch
    {
        UnderlyingKind.UInt32 => $"0x{value:X}u",
        UnderlyingKind.UInt64 => $"0x{value:X}ul",
        _ => $"0x{value:X}",
    };

    public static ulong MaxOf(UnderlyingKind kind) => kind switch
    {
        UnderlyingKind.Byte => byte.MaxValue,
        UnderlyingKind.UInt16 => ushort.MaxValue,
        UnderlyingKind.UInt32 => uint.MaxValue,
        _ => ulong.MaxValue,
    };
}

/// <summary>The result of looking at one [TypedHandle] struct: a model when it can be emitted, and its diagnostics.</summary>
internal sealed record TypedHandleResult(TypedHandleModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
