using System.Diagnostics;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class PinPerformanceTests
{
    private const ulong OneGiB = 1UL << 30;
    private const int PagesPerGiB = (int)(OneGiB / AddressMath.PageSize);

    [Fact]
    public void PinningOneGibIsFast()
    {
        var machine = new Machine();
        UserAddressSpace mm = machine.CreateProcess().Mm;
        ulong va = mm.Map(OneGiB);
        var pfns = new ulong[PagesPerGiB];

        var clock = Stopwatch.StartNew();
        Assert.Equal(Errno.None, mm.TryPin(va, PagesPerGiB, write: true, pfns)); // first pin also assigns every frame
        mm.Unpin(pfns);
        Assert.Equal(Errno.None, mm.TryPin(va, PagesPerGiB, write: true, pfns));
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Pinning 1 GiB took {clock.Elapsed.TotalMilliseconds:F0} ms.");
        Assert.Equal(PagesPerGiB, machine.Memory.Frames.AllocatedFrames);
        Assert.Equal(1, machine.Memory.PinCount(PhysAddr.FromFrame(pfns[^1])));
        Assert.Equal(0, machine.Memory.BackedBlocks); // nothing wrote to the frames, so no host memory backs them
        mm.Unpin(pfns);
    }

    [Fact]
    public void PinAndUnpinAllocateNothingAfterWarmUp()
    {
        var machine = new Machine();
        UserAddressSpace mm = machine.CreateProcess().Mm;
        MemFd file = machine.CreateMemFd("ram", 64UL << 20);
        ulong va = mm.Map(256UL << 20);
        var pfns = new ulong[(256 << 20) / (int)AddressMath.PageSize];
        var filePfns = new ulong[(64 << 20) / (int)AddressMath.PageSize];

        // Warm-up: assigns frames and creates the per-block pin-count arrays.
        Assert.Equal(Errno.None, mm.TryPin(va, (ulong)pfns.Length, write: true, pfns));
        mm.Unpin(pfns);
        Assert.Equal(Errno.None, file.TryPin(0, (ulong)filePfns.Length, write: true, filePfns));
        file.Unpin(filePfns);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            mm.TryPin(va, (ulong)pfns.Length, write: true, pfns);
            mm.Unpin(pfns);
            file.TryPin(0, (ulong)filePfns.Length, write: false, filePfns);
            file.Unpin(filePfns);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1024, $"Pin/unpin of 320 MiB x3 allocated {allocated} bytes.");
        Assert.All(new[] { pfns[0], pfns[^1], filePfns[^1] }, p => Assert.Equal(0, machine.Memory.PinCount(PhysAddr.FromFrame(p))));
    }
}
