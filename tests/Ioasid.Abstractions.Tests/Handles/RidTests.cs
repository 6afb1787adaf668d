using System.Text;

namespace Ioasid.Abstractions.Tests.Handles;

public class RidTests
{
    [Fact]
    public void Parts_compose_and_decompose()
    {
        var rid = Rid.Create(0x1234, 0xAB, 0x1F, 7);

        Assert.Equal((ushort)0x1234, rid.Segment);
        Assert.Equal((byte)0xAB, rid.Bus);
        Assert.Equal((byte)0x1F, rid.Device);
        Assert.Equal((byte)7, rid.Function);
        Assert.Equal((ushort)0xABFF, rid.Bdf);
        Assert.Equal((byte)0xFF, rid.DevFn);
        Assert.Equal(0x1234ABFFu, rid.Value);
    }

    [Theory]
    [InlineData(0, 0, 2, 0, "0000:00:02.0")]
    [InlineData(0xffff, 0xff, 0x1f, 7, "ffff:ff:1f.7")]
    [InlineData(1, 0x3a, 0x10, 3, "0001:3a:10.3")]
    public void Formats_like_lspci(int segment, int bus, int device, int function, string text)
    {
        var rid = Rid.Create((ushort)segment, (byte)bus, (byte)device, (byte)function);

        Assert.Equal(text, rid.ToString());
        Assert.Equal(rid, Rid.Parse(text));
        Assert.Equal(text, $"{rid}");
    }

    [Fact]
    public void Largest_rid_is_ffff_ff_1f_7_and_round_trips()
    {
        var max = Rid.MaxValue;

        Assert.Equal("ffff:ff:1f.7", max.ToString());
        Assert.Equal(max, Rid.Parse("ffff:ff:1f.7"));
        Assert.Equal(max, Rid.Parse("FFFF:FF:1F.7"));
    }

    [Fact]
    public void Parses_short_form_on_segment_zero()
    {
        Assert.Equal(Rid.Create(0, 0x3a, 0x10, 3), Rid.Parse("3a:10.3"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000:00:20.0")]      // device 32
    [InlineData("0000:00:02.8")]      // function 8
    [InlineData("10000:00:02.0")]     // segment too wide
    [InlineData("0000:100:02.0")]     // bus too wide
    [InlineData("0000:00.02:0")]
    [InlineData("0000:00:02")]
    [InlineData("0000:00:02.")]
    [InlineData("zz:00.0")]
    [InlineData("0000:00:02.0 ")]
    public void Rejects_malformed_text(string text)
    {
        Assert.False(Rid.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Rid.Parse(text));
    }

    [Theory]
    [InlineData(32, 0)]
    [InlineData(0, 8)]
    public void Create_rejects_out_of_range_parts(int device, int function)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Rid.Create(0, 0, (byte)device, (byte)function));
    }

    [Fact]
    public void Formats_to_utf8_and_reports_short_buffers()
    {
        var rid = Rid.Create(0, 0, 2, 0);
        Span<byte> utf8 = stackalloc byte[32];

        Assert.True(rid.TryFormat(utf8, out var written));
        Assert.Equal("0000:00:02.0", Encoding.UTF8.GetString(utf8[..written]));
        Assert.False(rid.TryFormat(stackalloc byte[5], out var none));
        Assert.Equal(0, none);
        Assert.False(rid.TryFormat(stackalloc char[11], out _));
    }
}
