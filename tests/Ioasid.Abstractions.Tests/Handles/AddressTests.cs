namespace Ioasid.Abstractions.Tests.Handles;

public class AddressTests
{
    [Theory]
    [InlineData(0ul, "0x0")]
    [InlineData(0x1000ul, "0x1000")]
    [InlineData(0xdeadbeef000ul, "0xdeadbeef000")]
    [InlineData(ulong.MaxValue, "0xffffffffffffffff")]
    public void Addresses_format_as_hex_and_round_trip(ulong value, string text)
    {
        Assert.Equal(text, new Iova(value).ToString());
        Assert.Equal(text, new PhysAddr(value).ToString());
        Assert.Equal(new Iova(value), Iova.Parse(text));
        Assert.Equal(new PhysAddr(value), PhysAddr.Parse(text.ToUpperInvariant().Replace("0X", "0x")));
    }

    [Fact]
    public void Addresses_also_parse_decimal_and_reject_garbage()
    {
        Assert.Equal(new Iova(4096), Iova.Parse("4096"));
        Assert.False(Iova.TryParse("0x", out _));
        Assert.False(Iova.TryParse("0x1g", out _));
        Assert.False(Iova.TryParse("0x10000000000000000", out _));
    }

    [Fact]
    public void Alignment_helpers()
    {
        var iova = new Iova(0x12345);

        Assert.False(iova.IsPageAligned);
        Assert.Equal(0x345ul, iova.PageOffset);
        Assert.Equal(new Iova(0x12000), iova.AlignDown(AddressMath.PageSize));
        Assert.Equal(new Iova(0x13000), iova.AlignUp(AddressMath.PageSize));
        Assert.True(new Iova(0x200000).IsAligned(0x200000));
        Assert.Throws<ArgumentOutOfRangeException>(() => iova.IsAligned(3));
        Assert.Throws<OverflowException>(() => new Iova(ulong.MaxValue).AlignUp(AddressMath.PageSize));
        Assert.Equal(0x12ul, new PhysAddr(0x12345).FrameNumber);
        Assert.Equal(new PhysAddr(0x12000), PhysAddr.FromFrame(0x12));
    }

    [Fact]
    public void Arithmetic_is_checked()
    {
        Assert.Equal(new Iova(0x3000), new Iova(0x1000) + 0x2000);
        Assert.Equal(0x2000ul, new Iova(0x3000) - new Iova(0x1000));
        Assert.Throws<OverflowException>(() => new Iova(ulong.MaxValue) + 1);
        Assert.Throws<OverflowException>(() => new PhysAddr(0) - new PhysAddr(1));
    }

    [Fact]
    public void Iova_and_PhysAddr_are_distinct_types()
    {
        // A typed handle converts to nothing implicitly: Iova and PhysAddr cannot stand in for each other.
        Assert.DoesNotContain(typeof(Iova).GetMethods(), m => m.Name == "op_Implicit");
        Assert.DoesNotContain(typeof(Iova).GetMethods(), m => m.Name == "op_Explicit" && m.ReturnType == typeof(PhysAddr));
        Assert.DoesNotContain(typeof(PhysAddr).GetMethods(), m => m.Name == "op_Explicit" && m.ReturnType == typeof(Iova));
        Assert.False(typeof(Iova).IsAssignableTo(typeof(IEquatable<PhysAddr>)));
    }

    // Worked by hand: the block is the smallest 2^n pages, aligned to its size, holding both ends.
    [Theory]
    [InlineData(0x5000ul, 0x5fffUL, 0x5000ul, 0)] // one page
    [InlineData(0x5000ul, 0x5000UL, 0x5000ul, 0)] // one byte
    [InlineData(0x4000ul, 0x7fffUL, 0x4000ul, 2)] // four aligned pages
    [InlineData(0x7000ul, 0x8fffUL, 0x0ul, 4)] // two pages across a 32 KiB boundary: the 16-page block at 0
    [InlineData(0x1_0000_0000ul, 0x1_001f_ffffUL, 0x1_0000_0000ul, 9)] // 2 MiB
    [InlineData(0x0ul, 0xffff_ffff_ffff_ffffUL, 0x0ul, 52)] // everything
    [InlineData(0x8000_0000_0000_0000ul, 0x8000_0000_0000_0fffUL, 0x8000_0000_0000_0000ul, 0)] // the top half
    public void AlignedPageBlock_is_the_smallest_aligned_power_of_two_block_holding_both_ends(ulong start, ulong end, ulong address, int log2Pages)
    {
        Assert.Equal((address, log2Pages), AddressMath.AlignedPageBlock(start, end));
    }
}
