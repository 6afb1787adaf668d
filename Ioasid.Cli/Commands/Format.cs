using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ioasid.Core.Iommufd;

namespace Ioasid.Cli.Commands;

/// <summary>How the CLI writes numbers, ranges and flags.</summary>
internal static class Format
{
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    public static string Range(IovaRange range) => $"[{range.Start}, {range.Last}]";

    public static string Ranges(IEnumerable<IovaRange> ranges)
    {
        var text = string.Join(" ", ranges.Select(Range));
        return text.Length == 0 ? "(none)" : text;
    }

    public static string Protection(IoasMapFlags flags) =>
        (flags.HasFlag(IoasMapFlags.Readable) ? "r" : "-") + (flags.HasFlag(IoasMapFlags.Writeable) ? "w" : "-");

    public static string Size(ulong bytes) => bytes switch
    {
        0 => "0",
        _ when bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        _ when bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        _ when bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => Hex(bytes),
    };
}
