using System;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ioasid.Core.Platform;

/// <summary>
/// Frame lifetime for one <see cref="PhysicalMemory"/>: which 4 KiB frames are allocated, and how many pins
/// (the kernel's <c>FOLL_PIN</c> references) hold each one. Page-table pages come from <see cref="AllocateZeroed"/>;
/// user memory gets its frames here too, on first touch.
/// </summary>
/// <remarks>
/// <para>
/// Frame 0 is never handed out, so a PFN of 0 can mean "no frame" in page arrays and a zeroed page-table entry never
/// points at a real table.
/// </para>
/// <para>
/// Allocation is O(1): a freed frame goes on a LIFO stack and is reused first (hot in cache, as the kernel's per-CPU
/// lists do); otherwise a bump pointer hands out never-used frames. The stack holds exactly the free frames below the
/// bump pointer. Contiguous runs come from the bump pointer, and only when it is exhausted from a scan of the
/// allocation bitmap (kept per 1 GiB, allocated on first use: 32 KiB per GiB).
/// </para>
/// <para>
/// A frame owned by user memory is not freed while pinned: when its owner lets go (munmap, truncate, exit) the
/// frame becomes an orphan that the last unpin frees, as a pinned page in Linux outlives its mapping.
/// </para>
/// </remarks>
public sealed class FrameAllocator
{
    private const int BitmapChunkShift = 18; // frames per bitmap chunk: 2^18 frames = 1 GiB
    private const int WordsPerBitmapChunk = (1 << BitmapChunkShift) / 64;
    private const int PinChunkShift = PhysicalMemory.BlockShift - AddressMath.PageShift; // pins kept per 2 MiB block
    private const int PinChunkMask = (1 << PinChunkShift) - 1;
    private const int OrphanBit = 1 << 30; // in a pin word: the owner has let go; the last unpin frees the frame
    private const int PinMask = OrphanBit - 1;

    private readonly PhysicalMemory _memory;
    private readonly ulong _frameCount;
    private readonly ulong[]?[] _allocatedBits;
    private readonly int[]?[] _pins;
    private ulong[] _free = new ulong[256];
    private int _freeCount;
    private ulong _nextFresh = 1; // frame 0 is reserved
    private long _allocated;
    private long _peak;

    internal FrameAllocator(PhysicalMemory memory)
    {
        _memory = memory;
        _frameCount = memory.FrameCount;
        _allocatedBits = new ulong[]?[(_frameCount + (1UL << BitmapChunkShift) - 1) >> BitmapChunkShift];
        _pins = new int[]?[(_frameCount + PinChunkMask) >> PinChunkShift];
    }

    /// <summary>The number of frames that can be allocated: every frame but frame 0.</summary>
    public ulong UsableFrames => _frameCount - 1;

    /// <summary>The number of frames currently allocated (including orphans kept alive by pins).</summary>
    public long AllocatedFrames
    {
        get
        {
            lock (_memory.Sync)
            {
                return _allocated;
            }
        }
    }

    /// <summary>The highest <see cref="AllocatedFrames"/> has been.</summary>
    public long PeakFrames
    {
        get
        {
            lock (_memory.Sync)
            {
                return _peak;
            }
        }
    }

    /// <summary>Allocates one zeroed 4 KiB frame: a free frame is reused before a never-used one.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.ENOMEM"/>: every frame is allocated.</exception>
    public PhysAddr AllocateZeroed()
    {
        lock (_memory.Sync)
        {
            if (!TryAllocateLocked(out ulong pfn))
            {
                throw OutOfMemory(1);
            }

            return PhysAddr.FromFrame(pfn);
        }
    }

    /// <summary>
    /// Allocates <paramref name="frames"/> physically contiguous zeroed frames whose first address is a multiple of
    /// <paramref name="alignmentBytes"/>: how user memory gets 2 MiB and 1 GiB huge pages that IOMMU drivers can map
    /// with superpages.
    /// </summary>
    /// <param name="frames">The number of 4 KiB frames, at least 1.</param>
    /// <param name="alignmentBytes">The alignment of the run: a power of two, at least 4 KiB.</param>
    /// <param name="first">The first frame of the run, or <see cref="PhysAddr.Zero"/> when none is free.</param>
    /// <returns>Whether a run was found; <see langword="false"/> changes nothing.</returns>
    public bool TryAllocateContiguous(ulong frames, ulong alignmentBytes, out PhysAddr first)
    {
        if (frames == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(frames), frames, "A contiguous allocation needs at least one frame.");
        }

        if (!BitOperations.IsPow2(alignmentBytes) || alignmentBytes < AddressMath.PageSize)
        {
            throw new ArgumentException($"Alignment 0x{alignmentBytes:X} is not a power of two of at least 4 KiB.", nameof(alignmentBytes));
        }

        lock (_memory.Sync)
        {
            bool found = TryAllocateContiguousLocked(frames, alignmentBytes >> AddressMath.PageShift, out ulong pfn);
            first = PhysAddr.FromFrame(pfn);
            return found;
        }
    }

    /// <summary>Frees a frame from <see cref="AllocateZeroed"/>; it becomes the next one handed out.</summary>
    /// <exception cref="ArgumentException">The address is not a frame's first byte, or lies outside the memory.</exception>
    /// <exception cref="InvalidOperationException">The frame is not allocated (a double free) or is pinned.</exception>
    public void Free(PhysAddr frame) => FreeContiguous(frame, 1);

    /// <summary>Frees <paramref name="frames"/> frames from <paramref name="first"/>, e.g. a run from <see cref="TryAllocateContiguous"/>; all or nothing.</summary>
    /// <exception cref="ArgumentException">The address is not page-aligned, or the run lies outside the memory.</exception>
    /// <exception cref="InvalidOperationException">A frame of the run is not allocated or is pinned; nothing is freed.</exception>
    public void FreeContiguous(PhysAddr first, ulong frames)
    {
        ulong pfn = RequireFrame(first, nameof(first));
        if (frames == 0 || frames > _frameCount - pfn)
        {
            throw new ArgumentException($"The run of {frames} frames from {first} lies outside the memory.", nameof(frames));
        }

        lock (_memory.Sync)
        {
            for (ulong f = pfn; f < pfn + frames; f++)
            {
                if (!IsAllocatedLocked(f))
                {
                    throw new InvalidOperationException($"Frame {PhysAddr.FromFrame(f)} is not allocated: double free.");
                }

                if (RawPin(f) != 0)
                {
                    throw new InvalidOperationException($"Frame {PhysAddr.FromFrame(f)} is pinned and cannot be freed.");
                }
            }

            // Pushed highest first so the LIFO hands the run back out in ascending order.
            for (ulong f = pfn + frames; f > pfn; f--)
            {
                FreeLocked(f - 1);
            }
        }
    }

    /// <summary>Whether the frame containing <paramref name="address"/> is allocated.</summary>
    public bool IsAllocated(PhysAddr address)
    {
        ulong pfn = address.FrameNumber;
        if (pfn >= _frameCount)
        {
            return false;
        }

        lock (_memory.Sync)
        {
            return IsAllocatedLocked(pfn);
        }
    }

    /// <summary>How many pins currently hold the frame containing <paramref name="address"/> (0 for any frame never pinned).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The address is outside the memory.</exception>
    public int PinCount(PhysAddr address)
    {
        ulong pfn = address.FrameNumber;
        if (pfn >= _frameCount)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, "The address is outside the physical memory.");
        }

        int[]? chunk = _pins[pfn >> PinChunkShift];
        return chunk is null ? 0 : chunk[pfn & PinChunkMask] & PinMask;
    }

    /// <summary>
    /// Drops one pin from each frame in <paramref name="pfns"/> (the kernel's <c>unpin_user_pages</c>): a frame whose
    /// owner has already let go is freed by its last unpin.
    /// </summary>
    /// <exception cref="InvalidOperationException">A frame is not pinned; the frames before it have been unpinned.</exception>
    public void Unpin(ReadOnlySpan<ulong> pfns)
    {
        lock (_memory.Sync)
        {
            foreach (ulong pfn in pfns)
            {
                UnpinLocked(pfn);
            }
        }
    }

    /// <summary>Allocates one zeroed frame under <see cref="PhysicalMemory.Sync"/>; false when memory is exhausted.</summary>
    internal bool TryAllocateLocked(out ulong pfn)
    {
        if (_freeCount > 0)
        {
            pfn = _free[--_freeCount];
        }
        else if (_nextFresh < _frameCount)
        {
            pfn = _nextFresh++;
        }
        else
        {
            pfn = 0;
            return false;
        }

        MarkAllocated(pfn, 1);
        _memory.ZeroFrame(pfn);
        return true;
    }

    /// <summary>Contiguous allocation under <see cref="PhysicalMemory.Sync"/>, alignment in frames.</summary>
    internal bool TryAllocateContiguousLocked(ulong frames, ulong alignFrames, out ulong pfn)
    {
        // Fast path: carve the run from never-used memory; frames skipped for alignment become ordinary free frames.
        ulong start = (_nextFresh + alignFrames - 1) & ~(alignFrames - 1);
        if (start >= _nextFresh && start <= _frameCount && frames <= _frameCount - start)
        {
            for (ulong f = _nextFresh; f < start; f++)
            {
                Push(f);
            }

            _nextFresh = start + frames;
            return TakeRun(start, frames, out pfn);
        }

        // Slow path, only once the bump pointer is exhausted: first fit over the bitmap. Any fitting run starts below
        // _nextFresh (an aligned start at or above it failed just now), so it may only extend into never-used frames.
        for (ulong candidate = alignFrames; candidate < _frameCount && frames <= _frameCount - candidate;)
        {
            ulong busy = NextAllocated(candidate, Math.Min(candidate + frames, _nextFresh));
            if (busy == ulong.MaxValue)
            {
                RemoveFromFreeStack(candidate, candidate + frames);
                _nextFresh = Math.Max(_nextFresh, candidate + frames);
                return TakeRun(candidate, frames, out pfn);
            }

            candidate = (busy + alignFrames) & ~(alignFrames - 1);
        }

        pfn = 0;
        return false;
    }

    /// <summary>Takes a pin on an allocated frame, under <see cref="PhysicalMemory.Sync"/>. Allocates only the first time a 2 MiB block is pinned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PinLocked(ulong pfn)
    {
        int[] chunk = _pins[pfn >> PinChunkShift] ?? CreatePinChunk(pfn >> PinChunkShift);
        chunk[pfn & PinChunkMask]++;
    }

    /// <summary>Drops one pin, under <see cref="PhysicalMemory.Sync"/>; frees an orphan on its last unpin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void UnpinLocked(ulong pfn)
    {
        int[]? chunk = pfn < _frameCount ? _pins[pfn >> PinChunkShift] : null;
        ulong slot = pfn & PinChunkMask;
        if (chunk is null || (chunk[slot] & PinMask) == 0)
        {
            ThrowNotPinned(pfn);
        }

        if (--chunk[slot] == OrphanBit)
        {
            chunk[slot] = 0;
            FreeLocked(pfn);
        }
    }

    /// <summary>
    /// The owner of a user-memory frame lets go of it, under <see cref="PhysicalMemory.Sync"/>: freed now if unpinned,
    /// otherwise kept as an orphan until its last unpin.
    /// </summary>
    internal void ReleaseLocked(ulong pfn)
    {
        int[]? chunk = _pins[pfn >> PinChunkShift];
        ulong slot = pfn & PinChunkMask;
        if (chunk is null || chunk[slot] == 0)
        {
            FreeLocked(pfn);
        }
        else
        {
            chunk[slot] |= OrphanBit;
        }
    }

    private bool TakeRun(ulong start, ulong frames, out ulong pfn)
    {
        MarkAllocated(start, frames);
        _memory.ZeroFrames(start, frames);
        pfn = start;
        return true;
    }

    private void MarkAllocated(ulong pfn, ulong frames)
    {
        for (ulong f = pfn; f < pfn + frames; f++)
        {
            ulong[] chunk = _allocatedBits[f >> BitmapChunkShift] ?? (_allocatedBits[f >> BitmapChunkShift] = new ulong[WordsPerBitmapChunk]);
            chunk[(f & ((1UL << BitmapChunkShift) - 1)) >> 6] |= 1UL << (int)(f & 63);
        }

        _allocated += (long)frames;
        if (_allocated > _peak)
        {
            _peak = _allocated;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int[] CreatePinChunk(ulong chunk) => _pins[chunk] = new int[1 << PinChunkShift];

    [DoesNotReturn]
    private void ThrowNotPinned(ulong pfn)
    {
        if (pfn >= _frameCount)
        {
            throw new ArgumentOutOfRangeException(nameof(pfn), pfn, "The frame number is outside the physical memory.");
        }

        throw new InvalidOperationException($"Frame {PhysAddr.FromFrame(pfn)} is not pinned.");
    }

    private void FreeLocked(ulong pfn)
    {
        _allocatedBits[pfn >> BitmapChunkShift]![(pfn & ((1UL << BitmapChunkShift) - 1)) >> 6] &= ~(1UL << (int)(pfn & 63));
        _allocated--;
        Push(pfn);
    }

    private void Push(ulong pfn)
    {
        if (_freeCount == _free.Length)
        {
            Array.Resize(ref _free, _free.Length * 2);
        }

        _free[_freeCount++] = pfn;
    }

    // The slow path took [from, to) out of the middle of the free set: keep the stack exactly the free frames.
    private void RemoveFromFreeStack(ulong from, ulong to)
    {
        int kept = 0;
        for (int i = 0; i < _freeCount; i++)
        {
            ulong pfn = _free[i];
            if (pfn < from || pfn >= to)
            {
                _free[kept++] = pfn;
            }
        }

        _freeCount = kept;
    }

    private bool IsAllocatedLocked(ulong pfn)
    {
        ulong[]? chunk = _allocatedBits[pfn >> BitmapChunkShift];
        return chunk is not null && (chunk[(pfn & ((1UL << BitmapChunkShift) - 1)) >> 6] & (1UL << (int)(pfn & 63))) != 0;
    }

    // The first allocated frame in [from, to), or ulong.MaxValue; a word at a time, a missing chunk at a time.
    private ulong NextAllocated(ulong from, ulong to)
    {
        ulong f = from;
        while (f < to)
        {
            ulong[]? chunk = _allocatedBits[f >> BitmapChunkShift];
            if (chunk is null)
            {
                f = ((f >> BitmapChunkShift) + 1) << BitmapChunkShift;
                continue;
            }

            ulong word = chunk[(f & ((1UL << BitmapChunkShift) - 1)) >> 6] >> (int)(f & 63);
            if (word != 0)
            {
                ulong hit = f + (ulong)BitOperations.TrailingZeroCount(word);
                return hit < to ? hit : ulong.MaxValue;
            }

            f = (f | 63) + 1;
        }

        return ulong.MaxValue;
    }

    private int RawPin(ulong pfn)
    {
        int[]? chunk = _pins[pfn >> PinChunkShift];
        return chunk is null ? 0 : chunk[pfn & PinChunkMask];
    }

    private ulong RequireFrame(PhysAddr frame, string parameter)
    {
        ulong pfn = frame.FrameNumber;
        if (!frame.IsPageAligned || pfn == 0 || pfn >= _frameCount)
        {
            throw new ArgumentException($"{frame} is not the first byte of an allocatable frame.", parameter);
        }

        return pfn;
    }

    private IoasidException OutOfMemory(ulong frames) =>
        new(Errno.ENOMEM, $"No {frames} free frame(s): {_allocated} of {UsableFrames} allocated.");
}
