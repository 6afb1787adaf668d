using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class MemFdTests
{
    private const ulong Page = AddressMath.PageSize;

    [Fact]
    public void SharedMappingsSeeTheSameBytes()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("guest-ram", 4 * Page);
        UserProcess vmm = machine.CreateProcess();
        UserProcess other = machine.CreateProcess(2000);
        ulong a = vmm.Mm.MapFile(file, 0, 4 * Page);
        ulong b = other.Mm.MapFile(file, Page, 3 * Page);
        Assert.Equal(3, file.ReferenceCount);

        vmm.Mm.Write(a + Page + 10, new byte[] { 1, 2, 3 });
        var seen = new byte[3];
        other.Mm.Read(b + 10, seen);
        Assert.Equal(new byte[] { 1, 2, 3 }, seen);
        Assert.Equal(3, file.Read(Page + 10, seen));
        Assert.Equal(new byte[] { 1, 2, 3 }, seen);

        file.Write(3 * Page, new byte[] { 7 });
        vmm.Mm.Read(a + (3 * Page), seen.AsSpan(0, 1));
        Assert.Equal(7, seen[0]);

        Assert.True(vmm.Mm.TryGetFrame(a + Page, out PhysAddr fa));
        Assert.True(other.Mm.TryGetFrame(b, out PhysAddr fb));
        Assert.Equal(fa, fb);
        Assert.Equal(2UL, file.ResidentPages);
    }

    [Fact]
    public void PrivateMappingWritesDoNotReachTheFile()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("lib", 2 * Page);
        file.Write(0, new byte[] { 5, 6 });
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.MapFile(file, 0, 2 * Page, shared: false);

        var seen = new byte[2];
        mm.Read(va, seen);
        Assert.Equal(new byte[] { 5, 6 }, seen);

        mm.Write(va + 1, new byte[] { 9 });
        mm.Read(va, seen);
        Assert.Equal(new byte[] { 5, 9 }, seen);
        file.Read(0, seen);
        Assert.Equal(new byte[] { 5, 6 }, seen);

        // Later file changes show through pages the process has not written.
        file.Write(Page, new byte[] { 4 });
        mm.Read(va + Page, seen.AsSpan(0, 1));
        Assert.Equal(4, seen[0]);
    }

    [Fact]
    public void ReadOnlyPinOfAPrivateFilePageUnsharesIt()
    {
        // Selftest ro_unshare: a CPU write after a read-only pin must not change the PFN the device sees.
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("exe", Page);
        file.Write(0, new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' });
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.MapFile(file, 0, Page, UserProt.ReadWrite, shared: false);

        var pfns = new ulong[1];
        Assert.Equal(Errno.None, mm.TryPin(va, 1, write: false, pfns));
        Assert.Equal(0x464C_457FU, machine.Memory.ReadU32(PhysAddr.FromFrame(pfns[0])));

        mm.Write(va, new byte[Page]); // memset(buf, 0, PAGE_SIZE)
        Assert.True(mm.TryGetFrame(va, out PhysAddr after));
        Assert.Equal(pfns[0], after.FrameNumber);
        Assert.Equal(0U, machine.Memory.ReadU32(PhysAddr.FromFrame(pfns[0])));

        var original = new byte[4];
        file.Read(0, original);
        Assert.Equal((byte)'E', original[1]);
        mm.Unpin(pfns);
    }

    [Fact]
    public void PinByFileOffset()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("buf", 4 * Page);
        var pfns = new ulong[4];

        Assert.Equal(Errno.None, file.TryPin(Page, 3, write: true, pfns));
        Assert.Equal(3UL, file.ResidentPages);
        Assert.All(pfns[..3], p => Assert.Equal(1, machine.Memory.PinCount(PhysAddr.FromFrame(p))));

        // The pinned frames are the file's.
        machine.Memory.WriteU64(PhysAddr.FromFrame(pfns[1]), 0x1122);
        var bytes = new byte[2];
        file.Read(2 * Page, bytes);
        Assert.Equal(new byte[] { 0x22, 0x11 }, bytes);

        Assert.Equal(Errno.EINVAL, file.TryPin(Page, 4, write: false, pfns)); // past EOF
        Assert.Equal(Errno.EINVAL, file.TryPin(100, 1, write: false, pfns));
        Assert.Equal(Errno.EINVAL, file.TryPin(5 * Page, 0, write: false, pfns));
        Assert.All(pfns[..3], p => Assert.Equal(1, machine.Memory.PinCount(PhysAddr.FromFrame(p))));

        file.Unpin(pfns.AsSpan(0, 3));
        Assert.All(pfns[..3], p => Assert.Equal(0, machine.Memory.PinCount(PhysAddr.FromFrame(p))));
    }

    [Fact]
    public void TruncateFaultsMappingsPastTheEndAndKeepsPinnedPagesAlive()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("shrinking", 3 * Page);
        file.Write(0, PlatformAssert.Pattern((int)(3 * Page), 8));
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.MapFile(file, 0, 3 * Page);
        var pfns = new ulong[3];
        Assert.Equal(Errno.None, file.TryPin(0, 3, write: false, pfns));

        file.Truncate(Page + 100);
        Assert.Equal(Page + 100, file.Size);
        Assert.Equal(Errno.EFAULT, mm.TryRead(va + (2 * Page), new byte[1]));
        Assert.False(mm.TryGetFrame(va + (2 * Page), out _));
        Assert.Equal(Errno.EFAULT, mm.TryPin(va, 3, write: false, new ulong[3]));
        Assert.Equal(Errno.EINVAL, file.TryPin(0, 3, write: false, new ulong[3]));

        // The partial last page keeps its first 100 bytes; the rest reads as zeros.
        var tail = new byte[Page];
        mm.Read(va + Page, tail);
        Assert.Equal(PlatformAssert.Pattern((int)(3 * Page), 8)[(int)Page..((int)Page + 100)], tail[..100]);
        PlatformAssert.AllZero(tail[100..]);

        // The truncated page is gone from the file but alive while pinned.
        Assert.True(machine.Memory.Frames.IsAllocated(PhysAddr.FromFrame(pfns[2])));
        Assert.Equal(PlatformAssert.Pattern((int)(3 * Page), 8)[(int)(2 * Page)..], PlatformAssert.ReadFrame(machine.Memory, pfns[2]));
        file.Unpin(pfns);
        Assert.False(machine.Memory.Frames.IsAllocated(PhysAddr.FromFrame(pfns[2])));
        Assert.Equal(2, machine.Memory.Frames.AllocatedFrames);

        // Growing again adds a hole.
        file.Truncate(3 * Page);
        var hole = new byte[Page];
        Assert.Equal((int)Page, file.Read(2 * Page, hole));
        PlatformAssert.AllZero(hole);
    }

    [Fact]
    public void ReadStopsAtEndOfFileAndWriteGrowsIt()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("log");
        Assert.Equal(0UL, file.Size);
        Assert.Equal(0, file.Read(0, new byte[10]));

        file.Write(Page - 2, new byte[] { 1, 2, 3, 4 });
        Assert.Equal(Page + 2, file.Size);
        var buffer = new byte[10];
        Assert.Equal(4, file.Read(Page - 2, buffer));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, buffer[..4]);
        Assert.Equal(0, file.Read(Page + 2, buffer));
        PlatformAssert.Errno(Errno.EINVAL, () => file.Write(ulong.MaxValue - 2, buffer));
    }

    [Fact]
    public void LastReferenceFreesThePages()
    {
        var machine = new Machine(64UL << 20);
        MemFd file = machine.CreateMemFd("short-lived", 2 * Page);
        file.Write(0, new byte[2 * Page]);
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.MapFile(file, 0, 2 * Page);
        mm.Unmap(va + Page, Page); // a split: two mappings of the file, then one

        file.Release(); // close(fd): the mapping keeps it alive
        Assert.Equal(1, file.ReferenceCount);
        var seen = new byte[1];
        mm.Read(va, seen);
        Assert.Equal(2, machine.Memory.Frames.AllocatedFrames);

        mm.Unmap(va, Page);
        Assert.Equal(0, file.ReferenceCount);
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);
        Assert.Equal(Errno.EBADF, file.TryPin(0, 1, write: false, new ulong[1]));
        PlatformAssert.Errno(Errno.EBADF, () => file.Read(0, seen));
        PlatformAssert.Errno(Errno.EBADF, () => mm.MapFile(file, 0, Page));
        Assert.Throws<InvalidOperationException>(() => file.Release());
    }
}
