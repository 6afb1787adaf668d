using Ioasid.Cli.Scripting;

namespace Ioasid.Cli.Tests;

public class CommandArgsTests
{
    [Theory]
    [InlineData("4096", 4096ul)]
    [InlineData("0x1000", 4096ul)]
    [InlineData("4K", 4096ul)]
    [InlineData("2M", 2ul << 20)]
    [InlineData("1G", 1ul << 30)]
    [InlineData("max", ulong.MaxValue)]
    public void Numbers_take_hex_and_size_suffixes(string text, ulong value) =>
        Assert.Equal(value, CommandArgs.ParseNumber(text, "n"));

    [Theory]
    [InlineData("-1")]
    [InlineData("0xg")]
    [InlineData("99999999999999999999")]
    [InlineData("16777216T")]
    public void Bad_numbers_are_usage_errors(string text) =>
        Assert.Throws<CommandException>(() => CommandArgs.ParseNumber(text, "n"));

    [Fact]
    public void Tokenizer_handles_quotes_and_comments()
    {
        Assert.Equal(["mem", "write", "0x10", "a # b"], Tokenizer.Split("mem write 0x10 \"a # b\" # comment"));
        Assert.Empty(Tokenizer.Split("   # only a comment"));
        Assert.Throws<CommandException>(() => Tokenizer.Split("mem write \"open"));
    }
}
