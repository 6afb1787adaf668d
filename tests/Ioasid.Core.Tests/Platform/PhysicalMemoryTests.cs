using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class PhysicalMemoryTests
{
    [Fact]
    public void UntouchedMemoryReadsZeroWithoutBacking()
    {
        var memory = new PhysicalMemory();
        Assert.Equal(PhysicalMemory.DefaultSize, memory.Size);

        Assert.Equal(0UL, memory.ReadU64(new PhysAddr(0)));
        Assert.Equal(0UL, memory.ReadU64(new PhysAddr(memory.Size - 8)));
        Assert.Equal(0U, memory.ReadU32(new PhysAddr(0x1234_5678 & ~3UL)));
        var bytes = new byte[3 * PhysicalMemory.BlockSize];
        bytes.AsSpan().Fill(0xAA);
        memory.Read(new PhysAddr(5 * PhysicalMemory.BlockSize - 100), bytes);
        PlatformAssert.AllZero(bytes);
        var table = memory.ReadTableEntries(new PhysAddr(0x4000_0000));
        Assert.Equal(512, table.Length);
        Assert.True(table.IndexOfAnyExcept(0UL) < 0);

        Assert.Equal(0, memory.BackedBlocks);
    }

    [Fact]
    public void U64IsLittleEndianByteByByte()
    {
        var memory = new PhysicalMemory();
        var pa = new PhysAddr(0x10_0008);
        memory.WriteU64(pa, 0x0102_0304_0506_0708);

        var bytes = new byte[8];
        memory.Read(pa, bytes);
        Assert.Equal(new byte[] { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 }, bytes);
        Assert.Equal(0x0506_0708U, memory.ReadU32(pa));
        Assert.Equal(0x0102_0304U, memory.ReadU32(pa + 4));
        Assert.Equal(0x0102_0304_0506_0708UL, memory.ReadU64(pa));
        Assert.Equal(1, memory.BackedBlocks);
    }

    [Fact]
    public void U32IsLittleEndianByteByByte()
    {
        var memory = new PhysicalMemory(1UL << 20);
        var pa = new PhysAddr(0x3FFC);
        memory.WriteU32(pa, 0xDEAD_BEEF);

        var bytes = new byte[4];
        memory.Read(pa, bytes);
        Assert.Equal(new byte[] { 0xEF, 0xBE, 0xAD, 0xDE }, bytes);
        Assert.Equal(0xDEAD_BEEFUL, memory.ReadU64(new PhysAddr(0x3FF8)) >> 32);

        memory.Write(pa, new byte[] { 1, 2, 3, 4 });
        Assert.Equal(0x0403_0201U, memory.ReadU32(pa));
    }

    [Fact]
    public void ByteRangesCrossFramesAndBlocks()
    {
        var memory = new PhysicalMemory();
        byte[] data = PlatformAssert.Pattern(10_000, 1);
        var pa = new PhysAddr(PhysicalMemory.BlockSize - 5003);
        memory.Write(pa, data);

        var back = new byte[data.Length];
        memory.Read(pa, back);
        Assert.Equal(data, back);
        Assert.Equal(2, memory.BackedBlocks);

        // Spot-check across the block boundary with the entry accessor.
        ulong word = memory.ReadU64(new PhysAddr(PhysicalMemory.BlockSize));
        Assert.Equal(BitConverter.ToUInt64(data, 5003), word);

        // A read straddling written and never-written memory.
        var wide = new byte[data.Length + 200];
        memory.Read(pa, wide);
        Assert.Equal(data, wide[..data.Length]);
        PlatformAssert.AllZero(wide[data.Length..]);
    }

    [Fact]
    public void TableEntriesIsAViewOfTheMemory()
    {
        var memory = new PhysicalMemory();
        var page = new PhysAddr(0x7_0000_0000);
        Span<ulong> entries = memory.TableEntries(page);
        Assert.Equal(512, entries.Length);

        entries[5] = 0x1234_5000 | 3;
        entries[511] = ulong.MaxValue;
        Assert.Equal(0x1234_5003UL, memory.ReadU64(page + 40));
        Assert.Equal(ulong.MaxValue, memory.ReadU64(page + 4088));
        Assert.Equal(0UL, memory.ReadU64(page + 4096));

        memory.WriteU64(page + 8, 42);
        Assert.Equal(42UL, memory.TableEntries(page)[1]);
        Assert.Equal(42UL, memory.ReadTableEntries(page)[1]);
    }

    [Fact]
    public void MisalignedEntryAccessIsAnArgumentError()
    {
        var memory = new PhysicalMemory(1UL << 20);
        Assert.Throws<ArgumentException>(() => memory.ReadU64(new PhysAddr(4)));
        Assert.Throws<ArgumentException>(() => memory.WriteU64(new PhysAddr(1), 0));
        Assert.Throws<ArgumentException>(() => memory.ReadU32(new PhysAddr(2)));
        Assert.Throws<ArgumentException>(() => memory.WriteU32(new PhysAddr(7), 0));
        Assert.Throws<ArgumentException>(() => memory.TableEntries(new PhysAddr(8)));
        Assert.Throws<ArgumentException>(() => memory.ReadTableEntries(new PhysAddr(0x800)));
    }

    [Fact]
    public void OutOfRangeAccessIsEfault()
    {
        var memory = new PhysicalMemory(1UL << 20);
        var end = new PhysAddr(memory.Size);
        PlatformAssert.Errno(Errno.EFAULT, () => memory.ReadU64(end));
        PlatformAssert.Errno(Errno.EFAULT, () => memory.WriteU32(end, 1));
        PlatformAssert.Errno(Errno.EFAULT, () => memory.TableEntries(end));
        PlatformAssert.Errno(Errno.EFAULT, () => memory.Read(new PhysAddr(memory.Size - 4), new byte[8]));
        PlatformAssert.Errno(Errno.EFAULT, () => memory.Write(new PhysAddr(ulong.MaxValue - 2), new byte[8]));
        Assert.Equal(0, memory.BackedBlocks);

        Assert.True(memory.Contains(new PhysAddr(memory.Size - 8), 8));
        Assert.False(memory.Contains(new PhysAddr(memory.Size - 8), 9));
    }

    [Fact]
    public void SizeMustBeANonZeroPageMultiple()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalMemory(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhysicalMemory(4097));
        Assert.Equal(16UL, new PhysicalMemory(64 * 1024).FrameCount);
    }
}
