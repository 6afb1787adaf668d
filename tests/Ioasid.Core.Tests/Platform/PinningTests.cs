using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class PinningTests
{
    private const ulong Page = AddressMath.PageSize;

    [Fact]
    public void PinCountsGoUpAndDownPerFrame()
    {
        var machine = new Machine(64UL << 20);
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(4 * Page);

        var first = new ulong[4];
        var second = new ulong[2];
        Assert.Equal(Errno.None, mm.TryPin(va, 4, write: true, first));
        Assert.Equal(Errno.None, mm.TryPin(va + (2 * Page), 2, write: false, second));
        Assert.Equal(4, first.Distinct().Count());
        Assert.Equal(first[2..], second);
        Assert.Equal(new[] { 1, 1, 2, 2 }, first.Select(p => machine.Memory.PinCount(PhysAddr.FromFrame(p))));

        mm.Unpin(second);
        Assert.Equal(new[] { 1, 1, 1, 1 }, first.Select(p => machine.Memory.PinCount(PhysAddr.FromFrame(p))));
        mm.Unpin(first);
        Assert.All(first, p => Assert.Equal(0, machine.Memory.PinCount(PhysAddr.FromFrame(p))));

        // The frames are the mapping's: still there, still the same.
        Assert.True(mm.TryGetFrame(va + (3 * Page), out PhysAddr frame));
        Assert.Equal(first[3], frame.FrameNumber);
    }

    [Fact]
    public void PinnedFramesAreWhatTheCpuReadsAndWrites()
    {
        var machine = new Machine(64UL << 20);
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(2 * Page);
        mm.Write(va + Page + 8, BitConverter.GetBytes(0xFEED_F00DUL));

        var pfns = new ulong[2];
        Assert.Equal(Errno.None, mm.TryPin(va + 123, 2, write: true, pfns)); // rounded down to the page, as GUP does
        Assert.Equal(0xFEED_F00DUL, machine.Memory.ReadU64(PhysAddr.FromFrame(pfns[1]) + 8));

        machine.Memory.WriteU64(PhysAddr.FromFrame(pfns[0]), 0xABCD); // the device writes
        var cpu = new byte[8];
        mm.Read(va, cpu);
        Assert.Equal(0xABCDUL, BitConverter.ToUInt64(cpu));
        mm.Unpin(pfns);
    }

    [Fact]
    public void FailedPinIsAllOrNothing()
    {
        var machine = new Machine(64UL << 20);
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(4 * Page);
        mm.Write(va, new byte[4 * Page]);
        mm.Protect(va + (3 * Page), Page, UserProt.Read);
        var frames = Enumerable.Range(0, 4).Select(i => { mm.TryGetFrame(va + ((ulong)i * Page), out PhysAddr f); return f; }).ToArray();

        var pfns = new ulong[4];
        Assert.Equal(Errno.EFAULT, mm.TryPin(va, 4, write: true, pfns)); // last page read-only
        Assert.All(frames, f => Assert.Equal(0, machine.Memory.PinCount(f)));

        mm.Unmap(va + (2 * Page), Page);
        Assert.Equal(Errno.EFAULT, mm.TryPin(va, 4, write: false, pfns)); // hole in the middle
        Assert.Equal(Errno.EFAULT, mm.TryPin(va + (2 * Page), 1, write: false, pfns));
        Assert.Equal(Errno.EFAULT, mm.TryPin(0x1000, 1, write: false, pfns));
        Assert.All(frames, f => Assert.Equal(0, machine.Memory.PinCount(f)));

        Assert.Throws<ArgumentException>(() => mm.TryPin(va, 4, write: false, new ulong[3]));
        Assert.Equal(Errno.None, mm.TryPin(va, 0, write: false, Span<ulong>.Empty));
    }

    [Fact]
    public void PinningFreshMemoryRunningOutOfFramesIsEnomemWithoutPins()
    {
        var machine = new Machine(16 * Page); // 15 usable frames
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(20 * Page);

        var pfns = new ulong[20];
        Assert.Equal(Errno.ENOMEM, mm.TryPin(va, 20, write: true, pfns));
        for (ulong i = 0; i < 15; i++)
        {
            Assert.True(mm.TryGetFrame(va + (i * Page), out PhysAddr frame)); // faulted in, as GUP leaves them
            Assert.Equal(0, machine.Memory.PinCount(frame));
        }

        Assert.Equal(Errno.None, mm.TryPin(va, 15, write: true, pfns));
        mm.Unpin(pfns.AsSpan(0, 15));
    }

    [Fact]
    public void UnmappedPinnedPageStaysAliveUntilUnpinned()
    {
        var machine = new Machine(64UL << 20);
        FrameAllocator frames = machine.Memory.Frames;
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(2 * Page);
        byte[] data = PlatformAssert.Pattern((int)(2 * Page), 7);
        mm.Write(va, data);

        var pfns = new ulong[2];
        Assert.Equal(Errno.None, mm.TryPin(va, 2, write: false, pfns));
        mm.Unmap(va, 2 * Page);

        Assert.Equal(Errno.EFAULT, mm.TryRead(va, new byte[1]));
        Assert.Equal(2, frames.AllocatedFrames);
        Assert.Equal(data[..(int)Page], PlatformAssert.ReadFrame(machine.Memory, pfns[0]));
        Assert.Equal(data[(int)Page..], PlatformAssert.ReadFrame(machine.Memory, pfns[1]));

        // New allocations do not get the orphaned frames.
        PhysAddr table = frames.AllocateZeroed();
        Assert.DoesNotContain(table.FrameNumber, pfns);

        mm.Unpin(pfns.AsSpan(0, 1));
        Assert.False(frames.IsAllocated(PhysAddr.FromFrame(pfns[0])));
        Assert.True(frames.IsAllocated(PhysAddr.FromFrame(pfns[1])));
        mm.Unpin(pfns.AsSpan(1));
        Assert.Equal(1, frames.AllocatedFrames);
    }

    [Fact]
    public void PinningAnExitedProcessIsEfault()
    {
        var machine = new Machine(64UL << 20);
        UserProcess process = machine.CreateProcess();
        ulong va = process.Mm.Map(Page);
        var pfns = new ulong[1];
        Assert.Equal(Errno.None, process.Mm.TryPin(va, 1, write: true, pfns));
        machine.Memory.WriteU64(PhysAddr.FromFrame(pfns[0]), 77);

        process.Exit();
        Assert.Equal(Errno.EFAULT, process.Mm.TryPin(va, 1, write: true, new ulong[1]));
        Assert.Equal(77UL, machine.Memory.ReadU64(PhysAddr.FromFrame(pfns[0]))); // still pinned, still there
        process.Mm.Unpin(pfns);
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void ForkedChildPinsWhileAliveAndFaultsOnceGone()
    {
        // Selftests fork_present / fork_gone: the child maps a buffer inherited from the parent.
        var machine = new Machine(64UL << 20);
        UserProcess parent = machine.CreateProcess();
        parent.MemlockLimit = 1UL << 30;
        ulong va = parent.Mm.Map(2 * Page);
        parent.Mm.Write(va, new byte[] { 1, 2, 3 });

        UserProcess child = parent.Fork();
        Assert.Same(parent.User, child.User);
        Assert.Equal(1UL << 30, child.MemlockLimit);
        Assert.NotEqual(parent.Pid, child.Pid);
        var seen = new byte[3];
        child.Mm.Read(va, seen);
        Assert.Equal(new byte[] { 1, 2, 3 }, seen);

        // Private memory: neither side sees the other's writes.
        child.Mm.Write(va, new byte[] { 9 });
        parent.Mm.Read(va, seen);
        Assert.Equal(1, seen[0]);

        var pfns = new ulong[2];
        Assert.Equal(Errno.None, child.Mm.TryPin(va, 2, write: true, pfns));
        child.Mm.Unpin(pfns);
        child.Exit();
        Assert.Equal(Errno.EFAULT, child.Mm.TryPin(va, 2, write: true, pfns));
        Assert.Equal(Errno.None, parent.Mm.TryPin(va, 2, write: true, pfns));
        parent.Mm.Unpin(pfns);
    }
}
