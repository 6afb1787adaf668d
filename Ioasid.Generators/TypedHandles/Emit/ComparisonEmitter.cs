using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles.Emit;

/// <summary>Ordering by raw value: IComparable and the comparison operators.</summary>
internal static class ComparisonEmitter
{
    public static void Emit(SourceWriter w, TypedHandleModel m)
    {
        var self = m.Name;
        w.Lines($$"""
            /// <summary>Compares raw values.</summary>
            public int CompareTo({{self}} other) => _value.CompareTo(other._value);

            /// <inheritdoc />
            public int CompareTo(object? obj) => obj switch
            {
                null => 1,
                {{self}} other => _value.CompareTo(other._value),
                _ => throw new global::System.ArgumentException("Object must be of type {{self}}.", nameof(obj)),
            };

            /// <summary>Whether <paramref name="left"/> orders before <paramref name="right"/>.</summary>
            public static bool operator <({{self}} left, {{self}} right) => left._value < right._value;

            /// <summary>Whether <paramref name="left"/> orders after <paramref name="right"/>.</summary>
            public static bool operator >({{self}} left, {{self}} right) => left._value > right._value;

            /// <summary>Whether <paramref name="left"/> orders before or equals <paramref name="right"/>.</summary>
            public static bool operator <=({{self}} left, {{self}} right) => left._value <= right._value;

            /// <summary>Whether <paramref name="left"/> orders after or equals <paramref name="right"/>.</summary>
            public static bool operator >=({{self}} left, {{self}} right) => left._value >= right._value;
            """);
    }
}
