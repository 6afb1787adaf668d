using System.Text;

namespace Ioasid.TestKit;

/// <summary>The kind of one line in a <see cref="LineDiff"/> result.</summary>
public enum LineDiffKind
{
    /// <summary>The line is present in both texts.</summary>
    Same,

    /// <summary>The line is only in the expected text (printed with <c>-</c>).</summary>
    Removed,

    /// <summary>The line is only in the actual text (printed with <c>+</c>).</summary>
    Added,
}

/// <summary>One line of a line diff with its 1-based line numbers (0 where the line is absent on that side).</summary>
public readonly record struct LineDiffEntry(LineDiffKind Kind, string Text, int ExpectedLine, int ActualLine);

/// <summary>
/// A small line-based diff (longest common subsequence on the lines that differ after trimming the common
/// prefix and suffix) with unified-style output: <c>-</c> expected, <c>+</c> actual, <c>@@</c> hunk headers.
/// Used by <see cref="Snapshot"/>; public so other tests can print readable differences too.
/// </summary>
public static class LineDiff
{
    // Above this many LCS cells the middle block is reported as "all removed, then all added" instead.
    private const long MaxLcsCells = 4_000_000;

    /// <summary>Splits on <c>\n</c> after normalising <c>\r\n</c> and <c>\r</c>.</summary>
    public static string[] SplitLines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Snapshot.NormalizeLineEndings(text).Split('\n');
    }

    /// <summary>Computes the line diff of two texts; an empty list of changes means the texts are equal.</summary>
    public static IReadOnlyList<LineDiffEntry> Compute(string expected, string actual)
        => Compute(SplitLines(expected), SplitLines(actual));

    /// <summary>Computes the line diff of two line arrays.</summary>
    public static IReadOnlyList<LineDiffEntry> Compute(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);

        var prefix = 0;
        while (prefix < expected.Count && prefix < actual.Count && string.Equals(expected[prefix], actual[prefix], StringComparison.Ordinal))
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < expected.Count - prefix && suffix < actual.Count - prefix
               && string.Equals(expected[expected.Count - 1 - suffix], actual[actual.Count - 1 - suffix], StringComparison.Ordinal))
        {
            suffix++;
        }

        var result = new List<LineDiffEntry>(Math.Max(expected.Count, actual.Count) + 8);
        for (var i = 0; i < prefix; i++)
        {
            result.Add(new LineDiffEntry(LineDiffKind.Same, expected[i], i + 1, i + 1));
        }

        AddMiddle(result, expected, actual, prefix, expected.Count - suffix, prefix, actual.Count - suffix);

        for (var k = suffix; k > 0; k--)
        {
            int e = expected.Count - k, a = actual.Count - k;
            result.Add(new LineDiffEntry(LineDiffKind.Same, expected[e], e + 1, a + 1));
        }

        return result;
    }

    private static void AddMiddle(List<LineDiffEntry> result, IReadOnlyList<string> expected, IReadOnlyList<string> actual,
        int eStart, int eEnd, int aStart, int aEnd)
    {
        int n = eEnd - eStart, m = aEnd - aStart;
        if (n == 0 || m == 0 || (long)(n + 1) * (m + 1) > MaxLcsCells)
        {
            for (var i = eStart; i < eEnd; i++)
            {
                result.Add(new LineDiffEntry(LineDiffKind.Removed, expected[i], i + 1, 0));
            }

            for (var j = aStart; j < aEnd; j++)
            {
                result.Add(new LineDiffEntry(LineDiffKind.Added, actual[j], 0, j + 1));
            }

            return;
        }

        // lcs[i, j] = length of the LCS of expected[eStart + i ..] and actual[aStart + j ..]
        var lcs = new int[n + 1, m + 1];
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m - 1; j >= 0; j--)
            {
                lcs[i, j] = string.Equals(expected[eStart + i], actual[aStart + j], StringComparison.Ordinal)
                    ? lcs[i + 1, j + 1] + 1
                    : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && string.Equals(expected[eStart + x], actual[aStart + y], StringComparison.Ordinal))
            {
                result.Add(new LineDiffEntry(LineDiffKind.Same, expected[eStart + x], eStart + x + 1, aStart + y + 1));
                x++;
                y++;
            }
            else if (y >= m || (x < n && lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                result.Add(new LineDiffEntry(LineDiffKind.Removed, expected[eStart + x], eStart + x + 1, 0));
                x++;
            }
            else
            {
                result.Add(new LineDiffEntry(LineDiffKind.Added, actual[aStart + y], 0, aStart + y + 1));
                y++;
            }
        }
    }

    /// <summary>
    /// Formats the differences as unified-style hunks (<c>@@ -l,n +l,n @@</c>, <c>-</c> expected, <c>+</c> actual,
    /// <paramref name="context"/> unchanged lines around each change). Stops after <paramref name="maxChangedLines"/>
    /// changed lines and says how many were left out. Returns an empty string when the texts are equal.
    /// </summary>
    public static string Format(string expected, string actual, string expectedLabel = "expected", string actualLabel = "actual",
        int context = 3, int maxChangedLines = 60)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChangedLines);

        var entries = Compute(expected, actual);
        var changed = new List<int>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Kind != LineDiffKind.Same)
            {
                changed.Add(i);
            }
        }

        if (changed.Count == 0)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        sb.Append("--- ").Append(expectedLabel).Append('\n');
        sb.Append("+++ ").Append(actualLabel).Append('\n');

        var printedChanges = 0;
        var c = 0;
        while (c < changed.Count && printedChanges < maxChangedLines)
        {
            // A hunk spans changes whose context windows touch.
            var start = Math.Max(0, changed[c] - context);
            var last = c;
            while (last + 1 < changed.Count && changed[last + 1] - changed[last] <= 2 * context + 1)
            {
                last++;
            }

            var end = Math.Min(entries.Count - 1, changed[last] + context);
            var hunk = new StringBuilder();
            int eCount = 0, aCount = 0, eFirst = 0, aFirst = 0;
            var truncated = false;
            for (var i = start; i <= end; i++)
            {
                var entry = entries[i];
                if (entry.Kind != LineDiffKind.Same)
                {
                    if (printedChanges == maxChangedLines)
                    {
                        truncated = true;
                        break;
                    }

                    printedChanges++;
                }

                if (entry.ExpectedLine > 0)
                {
                    eCount++;
                    eFirst = eFirst == 0 ? entry.ExpectedLine : eFirst;
                }

                if (entry.ActualLine > 0)
                {
                    aCount++;
                    aFirst = aFirst == 0 ? entry.ActualLine : aFirst;
                }

                hunk.Append(entry.Kind switch { LineDiffKind.Removed => '-', LineDiffKind.Added => '+', _ => ' ' })
                    .Append(entry.Text).Append('\n');
            }

            eFirst = eFirst == 0 ? FirstLineBefore(entries, start, e: true) : eFirst;
            aFirst = aFirst == 0 ? FirstLineBefore(entries, start, e: false) : aFirst;
            sb.Append("@@ -").Append(eFirst).Append(',').Append(eCount)
              .Append(" +").Append(aFirst).Append(',').Append(aCount).Append(" @@\n");
            sb.Append(hunk);
            if (truncated)
            {
                break;
            }

            c = last + 1;
        }

        var omitted = changed.Count - printedChanges;
        if (omitted > 0)
        {
            sb.Append("... ").Append(omitted).Append(" more changed line(s) not shown\n");
        }

        return sb.ToString();
    }

    // Unified diff convention for an empty side: the line number *before* the hunk.
    private static int FirstLineBefore(IReadOnlyList<LineDiffEntry> entries, int index, bool e)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            var line = e ? entries[i].ExpectedLine : entries[i].ActualLine;
            if (line > 0)
            {
                return line;
            }
        }

        return 0;
    }
}
