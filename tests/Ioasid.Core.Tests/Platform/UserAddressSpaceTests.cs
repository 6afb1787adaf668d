using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class UserAddressSpaceTests
{
    private const ulong Page = AddressMath.PageSize;

    private static UserAddressSpace NewMm(out Machine machine)
    {
        machine = new Machine(256UL << 20);
        return machine.CreateProcess().Mm;
    }

    [Fact]
    public void MapPicksDistinctPageAlignedAddressesNeverZero()
    {
        UserAddressSpace mm = NewMm(out _);
        var ranges = new List<(ulong Start, ulong End)>();
        foreach (ulong length in new ulong[] { 1, Page, 3 * Page + 5, 1UL << 20 })
        {
            ulong va = mm.Map(length);
            Assert.NotEqual(0UL, va);
            Assert.True(va >= UserAddressSpace.MinAddress);
            Assert.Equal(0UL, va % Page);
            ranges.Add((va, va + ((length + Page - 1) & ~(Page - 1))));
        }

        Assert.Equal(4, mm.MappingCount);
        foreach (var a in ranges)
        {
            Assert.All(ranges.Where(b => b != a), b => Assert.True(a.End <= b.Start || b.End <= a.Start));
        }
    }

    [Fact]
    public void AnonymousMemoryReadsZeroUntilWrittenAndRoundTrips()
    {
        UserAddressSpace mm = NewMm(out Machine machine);
        ulong va = mm.Map(4 * Page);

        var buffer = new byte[2 * Page];
        buffer.AsSpan().Fill(0x55);
        mm.Read(va + 100, buffer);
        PlatformAssert.AllZero(buffer);
        Assert.False(mm.TryGetFrame(va, out _));
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);

        byte[] data = PlatformAssert.Pattern(6000, 4);
        mm.Write(va + Page - 1000, data);
        var back = new byte[data.Length];
        mm.Read(va + Page - 1000, back);
        Assert.Equal(data, back);
        Assert.True(mm.TryGetFrame(va + Page, out PhysAddr frame));
        Assert.Equal((uint)data[1000], machine.Memory.ReadU32(frame) & 0xFF);
        Assert.Equal(3, machine.Memory.Frames.AllocatedFrames); // pages 0, 1 and 2 of the mapping
    }

    [Fact]
    public void AccessOutsideMappingsOrPermissionsIsEfaultAndChangesNothing()
    {
        UserAddressSpace mm = NewMm(out _);
        ulong ro = mm.Map(2 * Page, UserProt.Read);
        ulong none = mm.Map(Page, UserProt.None);
        ulong rw = mm.Map(2 * Page);

        Assert.Equal(Errno.EFAULT, mm.TryRead(0, new byte[1]));
        Assert.Equal(Errno.EFAULT, mm.TryWrite(ro, new byte[] { 1 }));
        Assert.Equal(Errno.EFAULT, mm.TryRead(none, new byte[1]));
        Assert.Equal(Errno.EFAULT, mm.TryRead(UserAddressSpace.TaskSize - 4, new byte[8]));
        PlatformAssert.Errno(Errno.EFAULT, () => mm.Write(ro + 10, new byte[] { 1 }));
        Assert.Equal(Errno.None, mm.TryRead(ro, new byte[2 * Page]));

        // A write running off the end of a mapping writes nothing at all.
        Assert.Equal(Errno.EFAULT, mm.TryWrite(rw + (2 * Page) - 4, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        var tail = new byte[4];
        mm.Read(rw + (2 * Page) - 4, tail);
        Assert.Equal(new byte[4], tail);
        Assert.False(mm.TryGetFrame(rw + Page, out _));
    }

    [Fact]
    public void UnmapSplitsMappingsAndFreesTheirFrames()
    {
        UserAddressSpace mm = NewMm(out Machine machine);
        ulong va = mm.Map(3 * Page);
        mm.Write(va, PlatformAssert.Pattern((int)(3 * Page), 5));
        Assert.Equal(3, machine.Memory.Frames.AllocatedFrames);

        mm.Unmap(va + Page, Page);
        Assert.Equal(2, mm.MappingCount);
        Assert.Equal(2, machine.Memory.Frames.AllocatedFrames);
        Assert.Equal(Errno.EFAULT, mm.TryRead(va + Page, new byte[1]));
        Assert.Equal(Errno.EFAULT, mm.TryRead(va, new byte[2 * Page]));

        var last = new byte[Page];
        mm.Read(va + (2 * Page), last);
        Assert.Equal(PlatformAssert.Pattern((int)(3 * Page), 5)[(int)(2 * Page)..], last);

        // Holes are fine; the length is rounded up to whole pages.
        mm.Unmap(va, (3 * Page) - 1);
        Assert.Equal(0, mm.MappingCount);
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void UnmapArgumentsAreChecked()
    {
        UserAddressSpace mm = NewMm(out _);
        ulong va = mm.Map(Page);
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Unmap(va + 1, Page));
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Unmap(va, 0));
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Unmap(UserAddressSpace.TaskSize - Page, 2 * Page));
        Assert.Equal(1, mm.MappingCount);
    }

    [Fact]
    public void MapArgumentsAreChecked()
    {
        UserAddressSpace mm = NewMm(out _);
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Map(0));
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Map(Page, (UserProt)8));
        PlatformAssert.Errno(Errno.EINVAL, () => mm.Map(Page, fixedVa: 0x10_0001));
        PlatformAssert.Errno(Errno.EPERM, () => mm.Map(Page, fixedVa: 0));
        PlatformAssert.Errno(Errno.ENOMEM, () => mm.Map(Page, fixedVa: UserAddressSpace.TaskSize));
        PlatformAssert.Errno(Errno.ENOMEM, () => mm.Map(UserAddressSpace.TaskSize + 1));
        Assert.Equal(0, mm.MappingCount);
    }

    [Fact]
    public void FixedMappingReplacesWhatWasThere()
    {
        UserAddressSpace mm = NewMm(out Machine machine);
        ulong va = mm.Map(4 * Page);
        mm.Write(va, PlatformAssert.Pattern((int)(4 * Page), 6));

        Assert.Equal(va + Page, mm.Map(2 * Page, fixedVa: va + Page));
        Assert.Equal(3, mm.MappingCount);
        Assert.Equal(2, machine.Memory.Frames.AllocatedFrames);
        var middle = new byte[2 * Page];
        mm.Read(va + Page, middle);
        PlatformAssert.AllZero(middle);
    }

    [Fact]
    public void ProtectChangesPermissionsOfARange()
    {
        UserAddressSpace mm = NewMm(out _);
        ulong va = mm.Map(3 * Page);
        mm.Write(va, new byte[] { 9 });

        mm.Protect(va + Page, Page, UserProt.Read);
        Assert.Equal(3, mm.MappingCount);
        Assert.Equal(Errno.EFAULT, mm.TryWrite(va + Page, new byte[] { 1 }));
        Assert.Equal(Errno.None, mm.TryWrite(va + (2 * Page), new byte[] { 1 }));
        Assert.Equal(Errno.EFAULT, mm.TryPin(va, 3, write: true, new ulong[3]));
        var pfns = new ulong[3];
        Assert.Equal(Errno.None, mm.TryPin(va, 3, write: false, pfns));
        mm.Unpin(pfns);

        PlatformAssert.Errno(Errno.ENOMEM, () => mm.Protect(va, 4 * Page, UserProt.None));
        Assert.Equal(Errno.None, mm.TryWrite(va + (2 * Page), new byte[] { 1 }));
    }

    [Fact]
    public void HugeMappingsGetContiguousAlignedFrames()
    {
        var machine = new Machine();
        UserAddressSpace mm = machine.CreateProcess().Mm;

        ulong giant = mm.Map(1UL << 30, hugePages: true);
        Assert.Equal(0UL, giant % (1UL << 30));
        mm.Write(giant + 12345, new byte[] { 1 });
        Assert.True(mm.TryGetFrame(giant, out PhysAddr first));
        Assert.True(mm.TryGetFrame(giant + (1UL << 30) - Page, out PhysAddr lastFrame));
        Assert.True(first.IsAligned(1UL << 30));
        Assert.Equal(first + ((1UL << 30) - Page), lastFrame);

        ulong huge = mm.Map(4UL << 20, hugePages: true);
        Assert.Equal(0UL, huge % (2UL << 20));
        mm.Write(huge + (3UL << 20), new byte[] { 1 });
        Assert.True(mm.TryGetFrame(huge + (2UL << 20), out PhysAddr second));
        Assert.True(second.IsAligned(2UL << 20));
        Assert.True(mm.TryGetFrame(huge + (4UL << 20) - Page, out PhysAddr end));
        Assert.Equal(second + ((2UL << 20) - Page), end);
        Assert.False(mm.TryGetFrame(huge, out _)); // the other 2 MiB piece is still untouched

        mm.Unmap(giant, 1UL << 30);
        mm.Unmap(huge, 4UL << 20);
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void ExitedProcessHasNoAddressSpace()
    {
        UserAddressSpace mm = NewMm(out Machine machine);
        ulong va = mm.Map(Page);
        mm.Write(va, new byte[] { 1 });
        mm.Owner.Exit();

        Assert.False(mm.Owner.IsAlive);
        Assert.Equal(0, mm.MappingCount);
        Assert.Equal(0, machine.Memory.Frames.AllocatedFrames);
        Assert.Equal(Errno.EFAULT, mm.TryRead(va, new byte[1]));
        Assert.Throws<InvalidOperationException>(() => mm.Map(Page));
        mm.Owner.Exit(); // idempotent
    }
}
