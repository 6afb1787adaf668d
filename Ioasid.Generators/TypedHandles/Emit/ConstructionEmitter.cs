using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles.Emit;

/// <summary>Range constants, the validating constructor and factories, the raw value, and named constants.</summary>
internal static class ConstructionEmitter
{
    private static readonly char[] LineBreaks = ['\r', '\n', '\u0085', '\u2028', '\u2029'];

    public static void Emit(SourceWriter w, TypedHandleModel m)
    {
        var t = m.UnderlyingKeyword;
        var self = m.Name;
        w.Lines($$"""
            /// <summary>The smallest raw value a <see cref="{{self}}"/> may hold.</summary>
            public const {{t}} MinRawValue = {{m.Literal(m.Min)}};

            /// <summary>The largest raw value a <see cref="{{self}}"/> may hold.</summary>
            public const {{t}} MaxRawValue = {{m.Literal(m.Max)}};

            /// <summary>The smallest valid <see cref="{{self}}"/>.</summary>
            public static {{self}} MinValue => new(MinRawValue);

            /// <summary>The largest valid <see cref="{{self}}"/>.</summary>
            public static {{self}} MaxValue => new(MaxRawValue);
            """);
        foreach (var constant in m.Constants)
        {
            w.Line();
            WriteSummary(w, constant.Summary ?? $"The {self} with raw value {constant.Value}.");
            w.Line($"public static readonly {self} {constant.Name} = new({m.Literal(constant.Value)});");
        }

        w.Line();
        w.Lines($$"""
            private readonly {{t}} _value;

            /// <summary>Creates a <see cref="{{self}}"/> from its raw value.</summary>
            /// <param name="value">The raw value, in [<see cref="MinRawValue"/>, <see cref="MaxRawValue"/>].</param>
            /// <exception cref="global::System.ArgumentOutOfRangeException"><paramref name="value"/> is outside the handle's range.</exception>
            public {{self}}({{t}} value)
            {
                if (!IsValid(value))
                {
                    ThrowOutOfRange(value);
                }

                _value = value;
            }

            /// <summary>The raw value.</summary>
            public {{t}} Value => _value;

            /// <summary>Whether <paramref name="value"/> is a valid raw value of a <see cref="{{self}}"/>.</summary>
            public static bool IsValid({{t}} value) => {{RangeCheck(m)}};

            /// <summary>Creates a <see cref="{{self}}"/> from its raw value; throws when it is out of range.</summary>
            public static {{self}} From({{t}} value) => new(value);

            /// <summary>Creates a <see cref="{{self}}"/> when <paramref name="value"/> is in range.</summary>
            public static bool TryFrom({{t}} value, out {{self}} handle)
            {
                if (IsValid(value))
                {
                    handle = new(value);
                    return true;
                }

                handle = default;
                return false;
            }

            /// <summary>The raw value of <paramref name="handle"/>.</summary>
            public static explicit operator {{t}}({{self}} handle) => handle._value;

            [global::System.Diagnostics.CodeAnalysis.DoesNotReturn]
            private static void ThrowOutOfRange({{t}} value) =>
                throw new global::System.ArgumentOutOfRangeException(nameof(value), value,
                    "{{self}} must lie in [{{m.Literal(m.Min).TrimEnd('u', 'l')}}, {{m.Literal(m.Max).TrimEnd('u', 'l')}}].");
            """);
    }

    // A summary is user text: escape it, and give every line of a multi-line summary its own "///", since a line
    // break (any the C# lexer knows) inside a doc comment would end the comment and leave the rest as code.
    private static void WriteSummary(SourceWriter w, string summary)
    {
        var lines = summary.Replace("\r\n", "\n").Split(LineBreaks);
        if (lines.Length == 1)
        {
            w.Line($"/// <summary>{XmlText.Escape(summary)}</summary>");
            return;
        }

        w.Line("/// <summary>");
        foreach (var line in lines)
        {
            w.Line(("/// " + XmlText.Escape(line.Trim())).TrimEnd());
        }

        w.Line("/// </summary>");
    }

    private static string RangeCheck(TypedHandleModel m) => (m.HasLowerBound, m.HasUpperBound) switch
    {
        (true, true) => "value >= MinRawValue && value <= MaxRawValue",
        (true, false) => "value >= MinRawValue",
        (false, true) => "value <= MaxRawValue",
        _ => "true",
    };
}
