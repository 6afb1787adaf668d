using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Ioasid.Core.Platform;

/// <summary>
/// The simulated machine's physical memory: a flat physical address space of <see cref="Size"/> bytes in 4 KiB
/// frames, backed sparsely. Backing is allocated on first write in <see cref="BlockSize"/> blocks held in a
/// directory indexed by <c>address &gt;&gt; BlockShift</c>, so every access is two array indexings and only the
/// first write into a block allocates. Reads of memory never written return zeros and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Memory is little-endian, as on every IOMMU-bearing architecture Ioasid models; the host must be little-endian
/// too (every .NET host that matters is), so a <c>u64</c> page-table entry is one host <see cref="ulong"/>.
/// </para>
/// <para>
/// Errors: an access that reaches past <see cref="Size"/> throws <see cref="IoasidException"/> with
/// <see cref="Errno.EFAULT"/> (a runtime condition: a hardware model turns it into a fault record); a misaligned
/// <c>u64</c>/<c>u32</c>/table access throws <see cref="ArgumentException"/> (a programming error in the caller).
/// </para>
/// <para>
/// Data accesses are lock-free: concurrent first writes to a block race benignly through a compare-exchange on the
/// directory slot. Bookkeeping (frames, pins, user memory, memlock counters) is serialised by one lock per memory,
/// taken once per operation.
/// </para>
/// </remarks>
public sealed class PhysicalMemory
{
    /// <summary>log2 of <see cref="BlockSize"/>.</summary>
    public const int BlockShift = 21;

    /// <summary>The unit in which backing is allocated: 2 MiB, one large-object array of 262,144 <see cref="ulong"/>s.</summary>
    public const ulong BlockSize = 1UL << BlockShift;

    /// <summary>The default physical address space: 64 GiB.</summary>
    public const ulong DefaultSize = 64UL << 30;

    /// <summary>The number of <c>u64</c> entries in a 4 KiB page-table page: 512.</summary>
    public const int EntriesPerTable = (int)(AddressMath.PageSize / sizeof(ulong));

    private const ulong BlockMask = BlockSize - 1;
    private const int WordsPerBlock = (int)(BlockSize / sizeof(ulong));

    // Handed out for reads of a never-written table page, so a walker over untouched memory allocates nothing.
    private static readonly ulong[] s_zeroTable = new ulong[EntriesPerTable];

    private readonly ulong[]?[] _blocks;
    private int _backedBlocks;

    /// <summary>Creates a physical address space of <paramref name="size"/> bytes, all zero and none of it backed yet.</summary>
    /// <param name="size">The size in bytes: a non-zero multiple of 4 KiB.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is zero, not page-aligned or too large for the directory.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public PhysicalMemory(ulong size = DefaultSize)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The simulated memory stores little-endian entries as host words; the host must be little-endian.");
        }

        if (size == 0 || !AddressMath.IsAligned(size, AddressMath.PageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Physical memory size must be a non-zero multiple of 4 KiB.");
        }

        ulong blocks = (size + BlockMask) >> BlockShift;
        if (blocks > (ulong)Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Physical memory size is too large for the block directory.");
        }

        Size = size;
        _blocks = new ulong[]?[blocks];
        Frames = new FrameAllocator(this);
    }

    /// <summary>The size of the physical address space in bytes; valid addresses are [0, <see cref="Size"/>).</summary>
    public ulong Size { get; }

    /// <summary>The number of 4 KiB frames in the address space.</summary>
    public ulong FrameCount => Size >> AddressMath.PageShift;

    /// <summary>The allocator that hands out this memory's frames and keeps their pin counts.</summary>
    public FrameAllocator Frames { get; }

    /// <summary>The number of <see cref="BlockSize"/> blocks that currently have backing (host memory in use is this times 2 MiB).</summary>
    public int BackedBlocks => Volatile.Read(ref _backedBlocks);

    /// <summary>
    /// The machine-wide lock that serialises bookkeeping: the frame allocator, pin counts, address spaces, memfds and
    /// memlock counters. Taken once per operation, never per page.
    /// </summary>
    internal Lock Sync { get; } = new();

    /// <summary>Whether [<paramref name="address"/>, <paramref name="address"/> + <paramref name="length"/>) lies inside the address space.</summary>
    public bool Contains(PhysAddr address, ulong length) => length <= Size && address.Value <= Size - length;

    /// <summary>How many pins hold the frame containing <paramref name="frame"/>; shorthand for <see cref="FrameAllocator.PinCount"/>.</summary>
    public int PinCount(PhysAddr frame) => Frames.PinCount(frame);

    /// <summary>Reads the little-endian <c>u64</c> at <paramref name="address"/>, which must be 8-byte aligned.</summary>
    /// <exception cref="ArgumentException">The address is not 8-byte aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the address is outside the memory.</exception>
    public ulong ReadU64(PhysAddr address)
    {
        ulong pa = address.Value;
        if ((pa & 7) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, sizeof(ulong));
        }

        return ReadTableEntry(pa);
    }

    /// <summary>
    /// The <c>u64</c> at <paramref name="pa"/> without the checks of <see cref="ReadU64"/>: for page walkers, which
    /// have checked <paramref name="pa"/> &lt; <see cref="Size"/> and whose entry addresses are 8-byte aligned by
    /// construction (table base | index × 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadTableEntry(ulong pa)
    {
        Debug.Assert((pa & 7) == 0 && pa < Size, "walkers check the address before reading");

        // Size is page-aligned, so an aligned pa below Size has all 8 bytes inside.
        ulong[]? block = BlockAt(pa);
        return block is null ? 0 : Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), (nint)((pa & BlockMask) >> 3));
    }

    /// <summary>Writes <paramref name="value"/> little-endian at <paramref name="address"/>, which must be 8-byte aligned.</summary>
    /// <exception cref="ArgumentException">The address is not 8-byte aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the address is outside the memory.</exception>
    public void WriteU64(PhysAddr address, ulong value)
    {
        ulong pa = address.Value;
        if ((pa & 7) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, sizeof(ulong));
        }

        ulong[] block = MaterializeBlock(pa);
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), (nint)((pa & BlockMask) >> 3)) = value;
    }

    /// <summary>Reads the little-endian <c>u32</c> at <paramref name="address"/>, which must be 4-byte aligned.</summary>
    /// <exception cref="ArgumentException">The address is not 4-byte aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the address is outside the memory.</exception>
    public uint ReadU32(PhysAddr address)
    {
        ulong pa = address.Value;
        if ((pa & 3) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, sizeof(uint));
        }

        ulong[]? block = BlockAt(pa);
        return block is null ? 0 : Unsafe.Add(ref Unsafe.As<ulong, uint>(ref MemoryMarshal.GetArrayDataReference(block)), (nint)((pa & BlockMask) >> 2));
    }

    /// <summary>Writes <paramref name="value"/> little-endian at <paramref name="address"/>, which must be 4-byte aligned.</summary>
    /// <exception cref="ArgumentException">The address is not 4-byte aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the address is outside the memory.</exception>
    public void WriteU32(PhysAddr address, uint value)
    {
        ulong pa = address.Value;
        if ((pa & 3) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, sizeof(uint));
        }

        ulong[] block = MaterializeBlock(pa);
        Unsafe.Add(ref Unsafe.As<ulong, uint>(ref MemoryMarshal.GetArrayDataReference(block)), (nint)((pa & BlockMask) >> 2)) = value;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="address"/>; the range may cross frames and blocks.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: part of the range is outside the memory; nothing is read.</exception>
    public void Read(PhysAddr address, Span<byte> destination)
    {
        ulong pa = address.Value;
        RequireRange(pa, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            int offset = (int)(pa & BlockMask);
            int chunk = (int)Math.Min((ulong)destination.Length, BlockSize - (ulong)offset);
            ulong[]? block = BlockAt(pa);
            if (block is null)
            {
                destination[..chunk].Clear();
            }
            else
            {
                MemoryMarshal.AsBytes(block.AsSpan()).Slice(offset, chunk).CopyTo(destination);
            }

            pa += (ulong)chunk;
            destination = destination[chunk..];
        }
    }

    /// <summary>Copies <paramref name="source"/> to memory starting at <paramref name="address"/>; the range may cross frames and blocks.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: part of the range is outside the memory; nothing is written.</exception>
    public void Write(PhysAddr address, ReadOnlySpan<byte> source)
    {
        ulong pa = address.Value;
        RequireRange(pa, (ulong)source.Length);
        while (!source.IsEmpty)
        {
            int offset = (int)(pa & BlockMask);
            int chunk = (int)Math.Min((ulong)source.Length, BlockSize - (ulong)offset);
            source[..chunk].CopyTo(MemoryMarshal.AsBytes(MaterializeBlock(pa).AsSpan()).Slice(offset, chunk));
            pa += (ulong)chunk;
            source = source[chunk..];
        }
    }

    /// <summary>
    /// The 512 <c>u64</c> entries of the 4 KiB page at <paramref name="tablePage"/>, as a writable view of the memory
    /// itself: the hot-path accessor for drivers writing page tables. Backs the page's block if it was never written.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not 4 KiB aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the page is outside the memory.</exception>
    public Span<ulong> TableEntries(PhysAddr tablePage)
    {
        ulong pa = tablePage.Value;
        if ((pa & (AddressMath.PageSize - 1)) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, (int)AddressMath.PageSize);
        }

        ulong[] block = MaterializeBlock(pa);
        return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), (nint)((pa & BlockMask) >> 3)), EntriesPerTable);
    }

    /// <summary>
    /// The 512 <c>u64</c> entries of the 4 KiB page at <paramref name="tablePage"/>, read-only: for hardware walkers,
    /// which must not back memory just by looking at it. A never-written page reads as 512 zeros.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not 4 KiB aligned.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: the page is outside the memory.</exception>
    public ReadOnlySpan<ulong> ReadTableEntries(PhysAddr tablePage)
    {
        ulong pa = tablePage.Value;
        if ((pa & (AddressMath.PageSize - 1)) != 0 || pa >= Size)
        {
            ThrowBadAccess(pa, (int)AddressMath.PageSize);
        }

        ulong[]? block = BlockAt(pa);
        return block is null
            ? s_zeroTable
            : MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), (nint)((pa & BlockMask) >> 3)), EntriesPerTable);
    }

    /// <summary>The bytes of frame <paramref name="pfn"/>, backing it if needed. The caller has range-checked the frame.</summary>
    internal Span<byte> FrameBytes(ulong pfn)
    {
        ulong pa = pfn << AddressMath.PageShift;
        return MemoryMarshal.AsBytes(MaterializeBlock(pa).AsSpan((int)((pa & BlockMask) >> 3), EntriesPerTable));
    }

    /// <summary>The bytes of frame <paramref name="pfn"/> for reading: a shared zero page when never written.</summary>
    internal ReadOnlySpan<byte> FrameBytesForRead(ulong pfn)
    {
        ulong pa = pfn << AddressMath.PageShift;
        ulong[]? block = BlockAt(pa);
        return MemoryMarshal.AsBytes(block is null ? s_zeroTable.AsSpan() : block.AsSpan((int)((pa & BlockMask) >> 3), EntriesPerTable));
    }

    /// <summary>Zeroes frame <paramref name="pfn"/> if it has backing: the single-frame allocation path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ZeroFrame(ulong pfn)
    {
        ulong pa = pfn << AddressMath.PageShift;
        BlockAt(pa)?.AsSpan((int)((pa & BlockMask) >> 3), EntriesPerTable).Clear();
    }

    /// <summary>
    /// Zeroes <paramref name="count"/> frames from <paramref name="firstPfn"/>. A block the range covers entirely is
    /// dropped instead of cleared: the range was free, nobody may hold a view of it, and dropping gives the host memory
    /// back (a freshly zeroed 1 GiB huge page costs nothing).
    /// </summary>
    internal void ZeroFrames(ulong firstPfn, ulong count)
    {
        ulong pa = firstPfn << AddressMath.PageShift;
        ulong end = pa + (count << AddressMath.PageShift);
        while (pa < end)
        {
            ulong blockStart = pa & ~BlockMask;
            ulong chunkEnd = Math.Min(end, blockStart + BlockSize);
            ref ulong[]? slot = ref SlotAt(pa);
            ulong[]? block = slot;
            if (block is not null)
            {
                if (pa == blockStart && chunkEnd == blockStart + BlockSize)
                {
                    if (Interlocked.CompareExchange(ref slot, null, block) == block)
                    {
                        Interlocked.Decrement(ref _backedBlocks);
                    }
                }
                else
                {
                    block.AsSpan((int)((pa & BlockMask) >> 3), (int)((chunkEnd - pa) >> 3)).Clear();
                }
            }

            pa = chunkEnd;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong[]? SlotAt(ulong pa) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_blocks), (nint)(pa >> BlockShift));

    // Callers have checked pa < Size, so the directory index is in range.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong[]? BlockAt(ulong pa) => SlotAt(pa);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong[] MaterializeBlock(ulong pa)
    {
        ref ulong[]? slot = ref SlotAt(pa);
        return Volatile.Read(ref slot) ?? CreateBlock(ref slot);
    }

    // Out of line: the only allocating path, taken once per 2 MiB block.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong[] CreateBlock(ref ulong[]? slot)
    {
        var fresh = new ulong[WordsPerBlock];
        ulong[]? winner = Interlocked.CompareExchange(ref slot, fresh, null);
        if (winner is not null)
        {
            return winner;
        }

        Interlocked.Increment(ref _backedBlocks);
        return fresh;
    }

    private void RequireRange(ulong pa, ulong length)
    {
        if (length > Size || pa > Size - length)
        {
            throw OutOfRange(pa, length);
        }
    }

    [DoesNotReturn]
    private void ThrowBadAccess(ulong pa, int width)
    {
        if ((pa & (ulong)(width - 1)) != 0)
        {
            throw new ArgumentException($"Physical address 0x{pa:X} is not {width}-byte aligned.", "address");
        }

        throw OutOfRange(pa, (ulong)width);
    }

    private IoasidException OutOfRange(ulong pa, ulong length) =>
        new(Errno.EFAULT, $"Physical range 0x{pa:X}+0x{length:X} lies outside the 0x{Size:X}-byte physical memory.");
}
