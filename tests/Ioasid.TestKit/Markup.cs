using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.TestKit;

/// <summary>A span marked in test source: <c>[|…|]</c> (any diagnostic id) or <c>{|ID:…|}</c> (that id).</summary>
/// <param name="Span">The span in the source without markup.</param>
/// <param name="Id">The expected diagnostic id, or null for <c>[|…|]</c>.</param>
public readonly record struct MarkedSpan(TextSpan Span, string? Id);

/// <summary>Source text with its markup removed and the marked spans.</summary>
/// <param name="Source">The source without markup.</param>
/// <param name="Spans">The marked spans, ordered by start, end, id.</param>
public sealed record ParsedMarkup(string Source, ImmutableArray<MarkedSpan> Spans);

/// <summary>
/// The markup syntax of Microsoft.CodeAnalysis.Testing: <c>[|text|]</c> marks a span where a diagnostic is expected,
/// <c>{|ID:text|}</c> one with diagnostic id <c>ID</c>; markers may nest.
/// </summary>
public static class Markup
{
    /// <summary>Strips the markup and returns the source and marked spans; throws <see cref="FormatException"/> on unbalanced markers.</summary>
    public static ParsedMarkup Parse(string markup)
    {
        ArgumentNullException.ThrowIfNull(markup);
        var source = new StringBuilder(markup.Length);
        var open = new Stack<(int Start, string? Id, char Closer)>();
        var spans = new List<MarkedSpan>();

        for (var i = 0; i < markup.Length; i++)
        {
            if (At(markup, i, "[|"))
            {
                open.Push((source.Length, null, ']'));
                i++;
            }
            else if (At(markup, i, "{|") && TryReadId(markup, i + 2, out var id, out var afterColon))
            {
                open.Push((source.Length, id, '}'));
                i = afterColon - 1;
            }
            else if (At(markup, i, "|]") || (At(markup, i, "|}") && open.Count > 0 && open.Peek().Closer == '}'))
            {
                var closer = markup[i + 1];
                if (open.Count == 0 || open.Peek().Closer != closer)
                {
                    throw new FormatException($"Unbalanced markup: '|{closer}' at offset {i} has no matching opener.");
                }

                var (start, spanId, _) = open.Pop();
                spans.Add(new MarkedSpan(TextSpan.FromBounds(start, source.Length), spanId));
                i++;
            }
            else
            {
                source.Append(markup[i]);
            }
        }

        if (open.Count > 0)
        {
            throw new FormatException($"Unbalanced markup: {open.Count} marker(s) opened but not closed (first at source offset {open.Last().Start}).");
        }

        var ordered = spans.OrderBy(s => s.Span.Start).ThenBy(s => s.Span.End).ThenBy(s => s.Id, StringComparer.Ordinal).ToImmutableArray();
        return new ParsedMarkup(source.ToString(), ordered);
    }

    /// <summary>Inserts markup for <paramref name="spans"/> into <paramref name="source"/> (the inverse of <see cref="Parse"/>).</summary>
    public static string Render(string source, IEnumerable<MarkedSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(spans);

        // Inserted back to front; at one position a later insert lands further left, so the order below yields
        // "empty spans, closers (inner first), openers (outer first)", which keeps nested and adjacent markers balanced.
        var inserts = new List<(int Position, int Order, int Width, string Text)>();
        foreach (var span in spans)
        {
            var empty = span.Span.IsEmpty;
            inserts.Add((span.Span.Start, empty ? 2 : 0, -span.Span.Length, span.Id is null ? "[|" : "{|" + span.Id + ":"));
            inserts.Add((span.Span.End, 1, span.Span.Length, span.Id is null ? "|]" : "|}"));
        }

        var sb = new StringBuilder(source);
        foreach (var insert in inserts.OrderByDescending(x => x.Position).ThenBy(x => x.Order).ThenByDescending(x => x.Width))
        {
            sb.Insert(insert.Position, insert.Text);
        }

        return sb.ToString();
    }

    private static bool At(string text, int index, string token)
        => string.CompareOrdinal(text, index, token, 0, token.Length) == 0;

    private static bool TryReadId(string text, int start, out string id, out int afterColon)
    {
        var end = start;
        while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] is '_' or '#' or '.'))
        {
            end++;
        }

        if (end > start && end < text.Length && text[end] == ':')
        {
            id = text[start..end];
            afterColon = end + 1;
            return true;
        }

        id = string.Empty;
        afterColon = start;
        return false;
    }
}
