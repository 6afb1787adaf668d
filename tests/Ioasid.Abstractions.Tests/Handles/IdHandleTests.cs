namespace Ioasid.Abstractions.Tests.Handles;

public class IdHandleTests
{
    [Fact]
    public void IoasidId_runs_from_one_to_2_pow_31_minus_1()
    {
        Assert.Equal(1u, IoasidId.MinValue.Value);
        Assert.Equal(0x7FFFFFFFu, IoasidId.MaxValue.Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => new IoasidId(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IoasidId(0x80000000));
        Assert.False(IoasidId.TryParse("0", out _));
        Assert.True(IoasidId.TryParse("2147483647", out var max));
        Assert.Equal(IoasidId.MaxValue, max);
        Assert.False(IoasidId.TryParse("2147483648", out _));
        Assert.Equal("12", new IoasidId(12).ToString());
    }

    [Fact]
    public void DomainHandle_rejects_zero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DomainHandle(0));
        Assert.Equal(ulong.MaxValue, DomainHandle.MaxValue.Value);
        Assert.Equal(new DomainHandle(5), DomainHandle.Parse("5"));
        Assert.False(DomainHandle.TryParse("0", out _));
    }

    [Fact]
    public void Explicit_conversion_gives_the_raw_value()
    {
        Assert.Equal(7u, (uint)new IoasidId(7));
        Assert.Equal(0x1000ul, (ulong)new Iova(0x1000));
    }
}
