namespace Ioasid.Abstractions.Tests;

public class ErrnoTests
{
    [Theory]
    [InlineData(Errno.EPERM, 1)]
    [InlineData(Errno.ENOENT, 2)]
    [InlineData(Errno.EINTR, 4)]
    [InlineData(Errno.EIO, 5)]
    [InlineData(Errno.E2BIG, 7)]
    [InlineData(Errno.EBADF, 9)]
    [InlineData(Errno.ENOMEM, 12)]
    [InlineData(Errno.EFAULT, 14)]
    [InlineData(Errno.EBUSY, 16)]
    [InlineData(Errno.EEXIST, 17)]
    [InlineData(Errno.ENODEV, 19)]
    [InlineData(Errno.EINVAL, 22)]
    [InlineData(Errno.ENOSPC, 28)]
    [InlineData(Errno.ESPIPE, 29)]
    [InlineData(Errno.ERANGE, 34)]
    [InlineData(Errno.EDEADLK, 35)]
    [InlineData(Errno.EOVERFLOW, 75)]
    [InlineData(Errno.EMSGSIZE, 90)]
    [InlineData(Errno.EOPNOTSUPP, 95)]
    [InlineData(Errno.EADDRINUSE, 98)]
    [InlineData(Errno.ETIMEDOUT, 110)]
    public void Values_are_linux_values(Errno errno, int value)
    {
        Assert.Equal(value, (int)errno);
        Assert.Equal(-value, errno.ToNegative());
        Assert.DoesNotContain("Unknown", errno.Message());
    }

    [Fact]
    public void Exception_carries_errno_and_sentence()
    {
        var error = new IoasidException(Errno.EBUSY, "the IOAS is still used by a hardware page table");

        Assert.Equal(Errno.EBUSY, error.Errno);
        Assert.Equal("EBUSY: the IOAS is still used by a hardware page table", error.Message);
        Assert.Equal("the IOAS is still used by a hardware page table", error.Detail);
        Assert.Equal("Device or resource busy", Errno.EBUSY.Message());
        Assert.Equal("Unknown error 1234", ((Errno)1234).Message());
    }
}
