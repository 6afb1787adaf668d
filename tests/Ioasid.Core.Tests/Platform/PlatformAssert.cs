using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

internal static class PlatformAssert
{
    public static void Errno(Ioasid.Errno expected, Action action)
    {
        var ex = Assert.Throws<IoasidException>(action);
        Assert.Equal(expected, ex.Errno);
    }

    public static void AllZero(ReadOnlySpan<byte> bytes)
    {
        int at = bytes.IndexOfAnyExcept((byte)0);
        Assert.True(at < 0, $"Byte {at} of {bytes.Length} is not zero.");
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] ReadFrame(PhysicalMemory memory, ulong pfn)
    {
        var bytes = new byte[AddressMath.PageSize];
        memory.Read(PhysAddr.FromFrame(pfn), bytes);
        return bytes;
    }
}
