using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles.Emit;

/// <summary>Parse and TryParse (ISpanParsable), all through one ParseCore followed by the range check.</summary>
internal static class ParsingEmitter
{
    public static void Emit(SourceWriter w, TypedHandleModel m)
    {
        var self = m.Name;
        var t = m.UnderlyingKeyword;
        w.Lines($$"""
            /// <summary>Parses a <see cref="{{self}}"/>; throws <see cref="global::System.FormatException"/> on bad or out-of-range text.</summary>
            public static {{self}} Parse(string s)
            {
                global::System.ArgumentNullException.ThrowIfNull(s);
                return Parse(global::System.MemoryExtensions.AsSpan(s), null);
            }

            /// <summary>Parses a <see cref="{{self}}"/>; throws <see cref="global::System.FormatException"/> on bad or out-of-range text.</summary>
            public static {{self}} Parse(string s, global::System.IFormatProvider? provider)
            {
                global::System.ArgumentNullException.ThrowIfNull(s);
                return Parse(global::System.MemoryExtensions.AsSpan(s), provider);
            }

            /// <summary>Parses a <see cref="{{self}}"/>; throws <see cref="global::System.FormatException"/> on bad or out-of-range text.</summary>
            public static {{self}} Parse(global::System.ReadOnlySpan<char> s, global::System.IFormatProvider? provider) =>
                TryParse(s, provider, out var result)
                    ? result
                    : throw new global::System.FormatException($"'{s.ToString()}' is not a valid {{self}}.");

            /// <summary>Parses a <see cref="{{self}}"/>, returning false on bad or out-of-range text.</summary>
            public static bool TryParse([global::System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? s, out {{self}} result) =>
                TryParse(s, null, out result);

            /// <summary>Parses a <see cref="{{self}}"/>, returning false on bad or out-of-range text.</summary>
            public static bool TryParse([global::System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? s, global::System.IFormatProvider? provider, out {{self}} result)
            {
                if (s is null)
                {
                    result = default;
                    return false;
                }

                return TryParse(global::System.MemoryExtensions.AsSpan(s), provider, out result);
            }

            /// <summary>Parses a <see cref="{{self}}"/>, returning false on bad or out-of-range text.</summary>
            public static bool TryParse(global::System.ReadOnlySpan<char> s, out {{self}} result) => TryParse(s, null, out result);

            /// <summary>Parses a <see cref="{{self}}"/>, returning false on bad or out-of-range text.</summary>
            public static bool TryParse(global::System.ReadOnlySpan<char> s, global::System.IFormatProvider? provider, out {{self}} result)
            {
                if (ParseCore(s, out var value) && IsValid(value))
                {
                    result = new(value);
                    return true;
                }

                result = default;
                return false;
            }
            """);
        w.Line();
        switch (m.Format)
        {
            case HandleTextFormat.Hex:
                w.Lines($$"""
                    private static bool ParseCore(global::System.ReadOnlySpan<char> s, out {{t}} value)
                    {
                        if (s.Length > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                        {
                            return {{t}}.TryParse(s.Slice(2), global::System.Globalization.NumberStyles.AllowHexSpecifier, global::System.Globalization.CultureInfo.InvariantCulture, out value);
                        }

                        return {{t}}.TryParse(s, global::System.Globalization.NumberStyles.None, global::System.Globalization.CultureInfo.InvariantCulture, out value);
                    }
                    """);
                break;
            case HandleTextFormat.Custom:
                w.Lines($$"""
                    private static bool ParseCore(global::System.ReadOnlySpan<char> s, out {{t}} value) => TryParseValue(s, out value);

                    /// <summary>Reads this handle's own text form (implemented by hand); the range is checked afterwards.</summary>
                    private static partial bool TryParseValue(global::System.ReadOnlySpan<char> s, out {{t}} value);
                    """);
                break;
            default:
                w.Lines($$"""
                    private static bool ParseCore(global::System.ReadOnlySpan<char> s, out {{t}} value) =>
                        {{t}}.TryParse(s, global::System.Globalization.NumberStyles.None, global::System.Globalization.CultureInfo.InvariantCulture, out value);
                    """);
                break;
        }
    }
}
