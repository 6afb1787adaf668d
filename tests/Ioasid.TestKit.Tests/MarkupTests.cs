using Microsoft.CodeAnalysis.Text;

namespace Ioasid.TestKit.Tests;

public sealed class MarkupTests
{
    [Fact]
    public void Parse_strips_markers_and_returns_spans_with_ids()
    {
        var parsed = Markup.Parse("class [|A|] { void {|TK002:Bad|}() { } }");

        Assert.Equal("class A { void Bad() { } }", parsed.Source);
        Assert.Equal([new MarkedSpan(new TextSpan(6, 1), null), new MarkedSpan(new TextSpan(15, 3), "TK002")], parsed.Spans.ToArray());
    }

    [Fact]
    public void Parse_supports_nesting_and_leaves_ordinary_braces_and_bars_alone()
    {
        var parsed = Markup.Parse("x = {|A1:f([|a|] || b)|}; y = { z | w };");

        Assert.Equal("x = f(a || b); y = { z | w };", parsed.Source);
        Assert.Equal([new MarkedSpan(new TextSpan(4, 9), "A1"), new MarkedSpan(new TextSpan(6, 1), null)], parsed.Spans.ToArray());
    }

    [Theory]
    [InlineData("class [|A { }")]
    [InlineData("class A|] { }")]
    [InlineData("class {|X:A|] { }")]
    public void Parse_rejects_unbalanced_markup(string markup)
        => Assert.Throws<FormatException>(() => Markup.Parse(markup));

    [Theory]
    [InlineData("class [|A|] { }")]
    [InlineData("{|X:a[|b|]|}[|c|]")]
    [InlineData("[|ab|][|cd|]")]
    [InlineData("a[||]b")]
    public void Render_is_the_inverse_of_Parse(string markup)
    {
        var parsed = Markup.Parse(markup);

        Assert.Equal(markup, Markup.Render(parsed.Source, parsed.Spans));
    }
}
