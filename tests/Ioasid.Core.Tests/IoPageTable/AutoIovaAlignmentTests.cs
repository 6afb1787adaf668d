using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

public sealed class AutoIovaAlignmentTests
{
    private const ulong Page = AutoIovaAlignment.PageSize;
    private const ulong Huge = AutoIovaAlignment.HugePageSize;

    [Theory]
    [InlineData(1UL, 1UL)]
    [InlineData(2UL, 2UL)]
    [InlineData(3UL, 4UL)]
    [InlineData(4096UL, 4096UL)]
    [InlineData(4097UL, 8192UL)]
    [InlineData(1UL << 63, 1UL << 63)]
    public void RoundUpPowerOfTwo(ulong value, ulong expected) =>
        Assert.Equal(expected, AutoIovaAlignment.RoundUpPowerOfTwo(value));

    [Theory]
    // source 0: length alone decides, capped.
    [InlineData(0UL, 4096UL, Huge, 4096UL)]
    [InlineData(0UL, 3 * 4096UL, Huge, 4 * 4096UL)]
    [InlineData(0UL, 64UL << 20, Huge, Huge)]
    [InlineData(0UL, 64UL << 20, Page, Page)]
    // the source address's lowest set bit caps it.
    [InlineData(0x7f00_0000_1000UL, 1UL << 20, Huge, 0x1000UL)]
    [InlineData(0x7f00_0020_0000UL, 1UL << 20, Huge, 1UL << 20)]
    [InlineData(0x7f00_0020_0000UL, 16UL << 20, Huge, Huge)]
    [InlineData(0x7f00_0000_0100UL, 1UL << 20, Huge, 0x100UL)]
    // byte-granular lengths.
    [InlineData(0x10UL, 100UL, Huge, 0x10UL)]
    [InlineData(0x1000UL, 100UL, Huge, 128UL)]
    public void Alignment_rules(ulong source, ulong length, ulong cap, ulong expected)
    {
        Assert.Equal(Errno.None, AutoIovaAlignment.TryCompute(source, length, cap, 1, out ulong a));
        Assert.Equal(expected, a);
        Assert.Equal(expected, ReferenceIoPageTable.Alignment(source, length, cap));
    }

    [Fact]
    public void Below_iova_alignment_is_EINVAL()
    {
        // A 2 KiB mock-domain IOAS refuses a 1 KiB auto map (alignment 1024 < 2048).
        Assert.Equal(Errno.EINVAL, AutoIovaAlignment.TryCompute(0, 1024, Huge, 2048, out _));
        Assert.Equal(Errno.EINVAL, AutoIovaAlignment.TryCompute(0x800, 1UL << 20, Huge, 4096, out _));
        Assert.Equal(Errno.None, AutoIovaAlignment.TryCompute(0x1000, 1UL << 20, Huge, 4096, out ulong a));
        Assert.Equal(4096UL, a);
    }

    [Fact]
    public void Zero_or_huge_length_is_EOVERFLOW()
    {
        Assert.Equal(Errno.EOVERFLOW, AutoIovaAlignment.TryCompute(0, 0, Huge, 1, out _));
        Assert.Equal(Errno.EOVERFLOW, AutoIovaAlignment.TryCompute(0, ulong.MaxValue / 2, Huge, 1, out _));
        Assert.Equal(Errno.None, AutoIovaAlignment.TryCompute(0, ulong.MaxValue / 2 - 1, Huge, 1, out _));
    }

    [Fact]
    public void Cap_must_be_a_power_of_two() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoIovaAlignment.TryCompute(0, 1, 3000, 1, out _));
}
