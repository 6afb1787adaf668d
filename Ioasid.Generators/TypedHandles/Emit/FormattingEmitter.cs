using Ioasid.Generators.Common;

namespace Ioasid.Generators.TypedHandles.Emit;

/// <summary>ToString, ISpanFormattable and IUtf8SpanFormattable, all through one FormatCore.</summary>
internal static class FormattingEmitter
{
    public static void Emit(SourceWriter w, TypedHandleModel m)
    {
        w.Lines("""
            /// <summary>The longest text any handle formats to.</summary>
            private const int MaxTextLength = 64;

            /// <summary>The handle's text form.</summary>
            public override string ToString()
            {
                global::System.Span<char> buffer = stackalloc char[MaxTextLength];
                FormatCore(buffer, out var written);
                return new string(buffer.Slice(0, written));
            }

            /// <summary>The handle's text form; handles have a single text form, so <paramref name="format"/> is ignored.</summary>
            public string ToString(string? format, global::System.IFormatProvider? formatProvider) => ToString();

            /// <summary>Writes the handle's text form into <paramref name="destination"/>.</summary>
            public bool TryFormat(global::System.Span<char> destination, out int charsWritten, global::System.ReadOnlySpan<char> format = default, global::System.IFormatProvider? provider = null) =>
                FormatCore(destination, out charsWritten);

            /// <summary>Writes the handle's text form as UTF-8 into <paramref name="utf8Destination"/>.</summary>
            public bool TryFormat(global::System.Span<byte> utf8Destination, out int bytesWritten, global::System.ReadOnlySpan<char> format = default, global::System.IFormatProvider? provider = null)
            {
                global::System.Span<char> buffer = stackalloc char[MaxTextLength];
                if (!FormatCore(buffer, out var chars) || chars > utf8Destination.Length)
                {
                    bytesWritten = 0;
                    return false;
                }

                // Handle text is ASCII, so each char is one UTF-8 byte.
                for (var i = 0; i < chars; i++)
                {
                    utf8Destination[i] = (byte)buffer[i];
                }

                bytesWritten = chars;
                return true;
            }
            """);
        w.Line();
        switch (m.Format)
        {
            case HandleTextFormat.Hex:
                w.Lines("""
                    private bool FormatCore(global::System.Span<char> destination, out int charsWritten)
                    {
                        if (destination.Length >= 3 && _value.TryFormat(destination.Slice(2), out var digits, "x", global::System.Globalization.CultureInfo.InvariantCulture))
                        {
                            destination[0] = '0';
                            destination[1] = 'x';
                            charsWritten = digits + 2;
                            return true;
                        }

                        charsWritten = 0;
                        return false;
                    }
                    """);
                break;
            case HandleTextFormat.Custom:
                w.Lines($$"""
                    private bool FormatCore(global::System.Span<char> destination, out int charsWritten) =>
                        TryFormatValue(_value, destination, out charsWritten);

                    /// <summary>Writes <paramref name="value"/> in this handle's own text form (implemented by hand).</summary>
                    private static partial bool TryFormatValue({{m.UnderlyingKeyword}} value, global::System.Span<char> destination, out int charsWritten);
                    """);
                break;
            default:
                w.Lines("""
                    private bool FormatCore(global::System.Span<char> destination, out int charsWritten) =>
                        _value.TryFormat(destination, out charsWritten, default, global::System.Globalization.CultureInfo.InvariantCulture);
                    """);
                break;
        }
    }
}
