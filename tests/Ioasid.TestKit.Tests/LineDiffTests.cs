namespace Ioasid.TestKit.Tests;

public sealed class LineDiffTests
{
    [Fact]
    public void Equal_texts_have_no_changes_and_format_to_empty()
    {
        Assert.All(LineDiff.Compute("a\nb", "a\r\nb"), e => Assert.Equal(LineDiffKind.Same, e.Kind));
        Assert.Equal(string.Empty, LineDiff.Format("a\nb", "a\nb"));
    }

    [Fact]
    public void Compute_finds_the_minimal_edit()
    {
        var entries = LineDiff.Compute("a\nb\nc\nd", "a\nc\nX\nd");

        Assert.Equal(
            [
                new LineDiffEntry(LineDiffKind.Same, "a", 1, 1),
                new LineDiffEntry(LineDiffKind.Removed, "b", 2, 0),
                new LineDiffEntry(LineDiffKind.Same, "c", 3, 2),
                new LineDiffEntry(LineDiffKind.Added, "X", 0, 3),
                new LineDiffEntry(LineDiffKind.Same, "d", 4, 4),
            ],
            entries.ToArray());
    }

    [Fact]
    public void Format_prints_unified_hunks_with_context()
    {
        var expected = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"line {i}"));
        var actual = expected.Replace("line 10", "line ten", StringComparison.Ordinal);

        var diff = LineDiff.Format(expected, actual, "old.txt", "new.txt", context: 2);

        Assert.Equal(
            """
            --- old.txt
            +++ new.txt
            @@ -8,5 +8,5 @@
             line 8
             line 9
            -line 10
            +line ten
             line 11
             line 12

            """.ReplaceLineEndings("\n"),
            diff);
    }

    [Fact]
    public void Format_splits_distant_changes_into_hunks_and_limits_output()
    {
        var expected = string.Join("\n", Enumerable.Range(1, 100).Select(i => $"{i}"));
        var actual = string.Join("\n", Enumerable.Range(1, 100).Select(i => i % 10 == 0 ? $"{i}!" : $"{i}"));

        var full = LineDiff.Format(expected, actual, context: 1);
        var limited = LineDiff.Format(expected, actual, context: 1, maxChangedLines: 4);

        Assert.Equal(10, full.Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
        Assert.Equal(2, limited.Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
        Assert.EndsWith("... 16 more changed line(s) not shown\n", limited, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_handles_insertions_into_empty_text()
    {
        var diff = LineDiff.Format("", "x");

        Assert.Contains("-\n+x\n", diff, StringComparison.Ordinal);
    }
}
