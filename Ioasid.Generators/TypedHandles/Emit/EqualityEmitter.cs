using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles.Emit;

/// <summary>Value equality: IEquatable, object equality, hash code and the equality operators.</summary>
internal static class EqualityEmitter
{
    public static void Emit(SourceWriter w, TypedHandleModel m)
    {
        var self = m.Name;
        w.Lines($$"""
            /// <summary>Whether both handles hold the same raw value.</summary>
            public bool Equals({{self}} other) => _value == other._value;

            /// <inheritdoc />
            public override bool Equals(object? obj) => obj is {{self}} other && _value == other._value;

            /// <inheritdoc />
            public override int GetHashCode() => _value.GetHashCode();

            /// <summary>Whether both handles hold the same raw value.</summary>
            public static bool operator ==({{self}} left, {{self}} right) => left._value == right._value;

            /// <summary>Whether the handles hold different raw values.</summary>
            public static bool operator !=({{self}} left, {{self}} right) => left._value != right._value;
            """);
    }
}
