using System.Globalization;

namespace Ioasid.Analyzers;

/// <summary>Writes replacement constants the way the source wrote the original: hex stays hex.</summary>
internal static class Literals
{
    /// <summary><paramref name="value"/> as a C# literal, in hex when <paramref name="originalText"/> was hex or the value is large.</summary>
    public static string Format(ulong value, string? originalText)
    {
        var hex = originalText is not null && originalText.TrimStart('(').StartsWith("0x", System.StringComparison.OrdinalIgnoreCase);
        return hex ? "0x" + value.ToString("X", CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A value for messages: decimal below 10, hex above.</summary>
    public static string Display(ulong value)
        => value < 10 ? value.ToString(CultureInfo.InvariantCulture) : "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
