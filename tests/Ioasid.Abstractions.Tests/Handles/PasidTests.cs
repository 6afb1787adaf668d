namespace Ioasid.Abstractions.Tests.Handles;

public class PasidTests
{
    [Fact]
    public void NoPasid_is_zero_the_rids_own_address_space()
    {
        Assert.Equal(0u, Pasid.NoPasid.Value);
        Assert.True(Pasid.NoPasid.IsNoPasid);
        Assert.Equal(default, Pasid.NoPasid);
        Assert.False(new Pasid(1).IsNoPasid);
    }

    [Fact]
    public void Range_is_twenty_bits()
    {
        Assert.Equal(0xFFFFFu, Pasid.MaxRawValue);
        Assert.Equal(0xFFFFFu, new Pasid(0xFFFFF).Value);
        Assert.True(Pasid.IsValid(0xFFFFF));
        Assert.False(Pasid.IsValid(0x100000));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Pasid(0x100000));
        Assert.Contains("Pasid must lie in [0x0, 0xFFFFF]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pasid.From(uint.MaxValue));
        Assert.False(Pasid.TryFrom(0x100000, out var none));
        Assert.Equal(default, none);
        Assert.True(Pasid.TryFrom(5, out var five));
        Assert.Equal(5u, five.Value);
    }

    [Theory]
    [InlineData("0", 0u)]
    [InlineData("42", 42u)]
    [InlineData("1048575", 0xFFFFFu)]
    public void Parses_and_formats_decimal(string text, uint value)
    {
        var pasid = Pasid.Parse(text);

        Assert.Equal(value, pasid.Value);
        Assert.Equal(text, pasid.ToString());
        Assert.True(Pasid.TryParse(text.AsSpan(), out var fromSpan));
        Assert.Equal(pasid, fromSpan);
    }

    [Theory]
    [InlineData("1048576")]   // 2^20, one past the range
    [InlineData("-1")]
    [InlineData("0x10")]
    [InlineData(" 1")]
    [InlineData("")]
    [InlineData("4294967296")]
    public void Rejects_bad_or_out_of_range_text(string text)
    {
        Assert.False(Pasid.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Pasid.Parse(text));
    }

    [Fact]
    public void Null_text_does_not_parse()
    {
        Assert.False(Pasid.TryParse((string?)null, out _));
        Assert.Throws<ArgumentNullException>(() => Pasid.Parse(null!));
    }

    [Fact]
    public void Equality_and_ordering_follow_the_raw_value()
    {
        var a = new Pasid(3);
        var b = new Pasid(3);
        var c = new Pasid(9);

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals((object)3u));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a < c && c > a && a <= b && a >= b && !(a > b));
        Assert.Equal(-1, a.CompareTo(c));
        Assert.Equal(0, a.CompareTo((object)b));
        Assert.Equal(1, a.CompareTo(null));
        Assert.Throws<ArgumentException>(() => a.CompareTo((object)"3"));
        Assert.Equal([new Pasid(1), new Pasid(2), new Pasid(7)], new[] { new Pasid(7), new Pasid(1), new Pasid(2) }.Order());
    }

    [Fact]
    public void Generic_parsing_through_ISpanParsable_works()
    {
        Assert.Equal(new Pasid(17), ParseGeneric<Pasid>("17"));
        Assert.Equal(new IoasidId(3), ParseGeneric<IoasidId>("3"));
        Assert.Equal(Rid.Create(0, 1, 2, 3), ParseGeneric<Rid>("0000:01:02.3"));
    }

    private static T ParseGeneric<T>(string text) where T : ISpanParsable<T> => T.Parse(text.AsSpan(), null);
}
