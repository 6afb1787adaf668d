using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class FrameAllocatorTests
{
    [Fact]
    public void AllocatesPageAlignedNonZeroFramesAndCounts()
    {
        var frames = new PhysicalMemory().Frames;
        var seen = new HashSet<ulong>();
        for (int i = 0; i < 100; i++)
        {
            PhysAddr frame = frames.AllocateZeroed();
            Assert.True(frame.IsPageAligned);
            Assert.NotEqual(0UL, frame.Value);
            Assert.True(seen.Add(frame.Value));
            Assert.True(frames.IsAllocated(frame));
        }

        Assert.Equal(100, frames.AllocatedFrames);
        Assert.Equal(100, frames.PeakFrames);
        foreach (ulong pa in seen.Take(40))
        {
            frames.Free(new PhysAddr(pa));
        }

        Assert.Equal(60, frames.AllocatedFrames);
        Assert.Equal(100, frames.PeakFrames);
    }

    [Fact]
    public void FreedFramesAreReusedLifoAndZeroed()
    {
        var memory = new PhysicalMemory();
        FrameAllocator frames = memory.Frames;
        PhysAddr a = frames.AllocateZeroed();
        PhysAddr b = frames.AllocateZeroed();
        PhysAddr c = frames.AllocateZeroed();
        memory.Write(a, PlatformAssert.Pattern(4096, 2));
        memory.Write(b, PlatformAssert.Pattern(4096, 3));

        frames.Free(a);
        frames.Free(b);
        Assert.Equal(b, frames.AllocateZeroed());
        Assert.Equal(a, frames.AllocateZeroed());
        PlatformAssert.AllZero(PlatformAssert.ReadFrame(memory, a.FrameNumber));
        PlatformAssert.AllZero(PlatformAssert.ReadFrame(memory, b.FrameNumber));
        Assert.True(memory.ReadTableEntries(a).IndexOfAnyExcept(0UL) < 0);
        Assert.True(frames.IsAllocated(c));
    }

    [Fact]
    public void DoubleFreeAndBadAddressesAreRefused()
    {
        var frames = new PhysicalMemory(1UL << 20).Frames;
        PhysAddr a = frames.AllocateZeroed();
        frames.Free(a);
        Assert.Throws<InvalidOperationException>(() => frames.Free(a));
        Assert.Throws<InvalidOperationException>(() => frames.Free(new PhysAddr(0x8_0000)));
        Assert.Throws<ArgumentException>(() => frames.Free(a + 8));
        Assert.Throws<ArgumentException>(() => frames.Free(PhysAddr.Zero));
        Assert.Throws<ArgumentException>(() => frames.Free(new PhysAddr(1UL << 20)));
        Assert.Equal(0, frames.AllocatedFrames);
    }

    [Fact]
    public void ExhaustionIsEnomemAndChangesNothing()
    {
        var frames = new PhysicalMemory(16 * AddressMath.PageSize).Frames;
        Assert.Equal(15UL, frames.UsableFrames);
        var taken = new List<PhysAddr>();
        for (int i = 0; i < 15; i++)
        {
            taken.Add(frames.AllocateZeroed());
        }

        PlatformAssert.Errno(Errno.ENOMEM, () => frames.AllocateZeroed());
        Assert.Equal(15, frames.AllocatedFrames);
        Assert.False(frames.TryAllocateContiguous(1, AddressMath.PageSize, out _));

        frames.Free(taken[7]);
        Assert.Equal(taken[7], frames.AllocateZeroed());
    }

    [Fact]
    public void ContiguousRunsAreAlignedZeroedAndCounted()
    {
        var memory = new PhysicalMemory();
        FrameAllocator frames = memory.Frames;
        frames.AllocateZeroed(); // so the bump pointer is not already aligned

        Assert.True(frames.TryAllocateContiguous(512, 2UL << 20, out PhysAddr huge));
        Assert.True(huge.IsAligned(2UL << 20));
        Assert.NotEqual(PhysAddr.Zero, huge);
        Assert.True(frames.IsAllocated(huge) && frames.IsAllocated(huge + (511 * AddressMath.PageSize)));
        Assert.Equal(513, frames.AllocatedFrames);

        Assert.True(frames.TryAllocateContiguous(1UL << 18, 1UL << 30, out PhysAddr giant));
        Assert.True(giant.IsAligned(1UL << 30));
        Assert.NotEqual(PhysAddr.Zero, giant);
        Assert.Equal(513 + (1L << 18), frames.AllocatedFrames);
        Assert.Equal(0UL, memory.ReadU64(giant + ((1UL << 30) - 8)));

        // Frames skipped for alignment are ordinary free frames, handed out next.
        PhysAddr next = frames.AllocateZeroed();
        Assert.True(next < giant);

        frames.FreeContiguous(giant, 1UL << 18);
        Assert.False(frames.IsAllocated(giant));
        Assert.Throws<ArgumentException>(() => frames.TryAllocateContiguous(2, 12288, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => frames.TryAllocateContiguous(0, 4096, out _));
    }

    [Fact]
    public void ContiguousFallsBackToFreedFramesWhenTheBumpRegionIsExhausted()
    {
        var memory = new PhysicalMemory(32 * AddressMath.PageSize);
        FrameAllocator frames = memory.Frames;
        var all = new List<PhysAddr>();
        for (int i = 0; i < 31; i++)
        {
            all.Add(frames.AllocateZeroed());
        }

        // Free every other frame: 15 free frames, no two adjacent.
        foreach (PhysAddr frame in all.Where(f => f.FrameNumber % 2 == 0))
        {
            memory.Write(frame, new byte[] { 0xFF });
            frames.Free(frame);
        }

        long allocated = frames.AllocatedFrames;
        Assert.False(frames.TryAllocateContiguous(2, 2 * AddressMath.PageSize, out _));
        Assert.Equal(allocated, frames.AllocatedFrames);

        // Free frames 9 and 11 too: 8..11 is now a free, 16 KiB-aligned run.
        frames.Free(PhysAddr.FromFrame(9));
        frames.Free(PhysAddr.FromFrame(11));
        Assert.True(frames.TryAllocateContiguous(4, 4 * AddressMath.PageSize, out PhysAddr run));
        Assert.Equal(PhysAddr.FromFrame(8), run);
        Assert.Equal(0UL, memory.ReadU64(run));

        // The run's frames left the free list: the remaining singles are all outside it, then memory is exhausted.
        var rest = new List<ulong>();
        for (int i = 0; i < 13; i++)
        {
            rest.Add(frames.AllocateZeroed().FrameNumber);
        }

        Assert.DoesNotContain(rest, pfn => pfn is >= 8 and < 12);
        Assert.Equal(rest.Count, rest.Distinct().Count());
        PlatformAssert.Errno(Errno.ENOMEM, () => frames.AllocateZeroed());
    }

    [Fact]
    public void PinnedFramesCannotBeFreed()
    {
        var machine = new Machine(64UL << 20);
        UserProcess process = machine.CreateProcess();
        ulong va = process.Mm.Map(AddressMath.PageSize);
        var pfn = new ulong[1];
        Assert.Equal(Errno.None, process.Mm.TryPin(va, 1, write: true, pfn));

        Assert.Throws<InvalidOperationException>(() => machine.Memory.Frames.Free(PhysAddr.FromFrame(pfn[0])));
        process.Mm.Unpin(pfn);
        Assert.Throws<InvalidOperationException>(() => machine.Memory.Frames.Unpin(pfn));
    }
}
