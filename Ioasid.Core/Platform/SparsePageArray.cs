using System;
using System.Runtime.CompilerServices;

namespace Ioasid.Core.Platform;

/// <summary>
/// A page index → PFN table for one backing object (anonymous memory, a memfd's page cache, a private mapping's
/// copies), with 0 meaning "no frame yet" (frame 0 is never allocated). Entries live in 512-entry chunks, one per
/// 2 MiB of the object, created on first assignment: a 16 GiB guest-RAM mapping costs a 64 KiB directory until
/// touched, and no page ever has an object of its own.
/// </summary>
/// <remarks>Not synchronised: owners call it under <see cref="PhysicalMemory.Sync"/>.</remarks>
internal sealed class SparsePageArray
{
    /// <summary>log2 of the entries per chunk.</summary>
    internal const int ChunkShift = 9;

    /// <summary>Entries per chunk: 512, so a chunk spans 2 MiB of the object, the huge-page size.</summary>
    internal const int ChunkSize = 1 << ChunkShift;

    private const ulong ChunkMask = ChunkSize - 1;

    private ulong[]?[] _chunks;

    internal SparsePageArray(ulong pages)
    {
        _chunks = new ulong[]?[ChunkCount(pages)];
    }

    /// <summary>The number of entries the directory covers (a multiple of <see cref="ChunkSize"/>).</summary>
    internal ulong Capacity => (ulong)_chunks.Length << ChunkShift;

    /// <summary>The PFN at <paramref name="index"/>, or 0 when none is assigned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Get(ulong index)
    {
        ulong chunk = index >> ChunkShift;
        if (chunk >= (ulong)_chunks.Length)
        {
            return 0;
        }

        ulong[]? entries = _chunks[chunk];
        return entries is null ? 0 : entries[index & ChunkMask];
    }

    /// <summary>The slot for <paramref name="index"/>, creating its chunk (the only allocation, once per 512 pages).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref ulong Slot(ulong index)
    {
        ulong[] entries = _chunks[index >> ChunkShift] ?? CreateChunk(index >> ChunkShift);
        return ref entries[index & ChunkMask];
    }

    /// <summary>Whether the chunk holding <paramref name="index"/> has never been created: no entry of it is assigned.</summary>
    internal bool ChunkIsEmpty(ulong index)
    {
        ulong chunk = index >> ChunkShift;
        return chunk >= (ulong)_chunks.Length || _chunks[chunk] is null;
    }

    /// <summary>Grows the directory to cover <paramref name="pages"/> entries (a file growing); amortised doubling.</summary>
    internal void EnsureCapacity(ulong pages)
    {
        ulong needed = ChunkCount(pages);
        if (needed > (ulong)_chunks.Length)
        {
            Array.Resize(ref _chunks, (int)Math.Min(Math.Max(needed, (ulong)_chunks.Length * 2), (ulong)Array.MaxLength));
        }
    }

    /// <summary>
    /// Hands every assigned frame in [<paramref name="from"/>, <paramref name="to"/>) back to <paramref name="frames"/>
    /// (freed, or orphaned while pinned) and clears those entries; chunks the range covers entirely are dropped.
    /// </summary>
    internal void ReleaseRange(ulong from, ulong to, FrameAllocator frames)
    {
        ulong limit = Math.Min(to, (ulong)_chunks.Length << ChunkShift);
        for (ulong index = from; index < limit;)
        {
            ulong chunkIndex = index >> ChunkShift;
            ulong chunkStart = chunkIndex << ChunkShift;
            ulong chunkEnd = Math.Min(limit, chunkStart + ChunkSize);
            ulong[]? entries = _chunks[chunkIndex];
            if (entries is not null)
            {
                for (ulong i = index; i < chunkEnd; i++)
                {
                    ref ulong pfn = ref entries[i & ChunkMask];
                    if (pfn != 0)
                    {
                        frames.ReleaseLocked(pfn);
                        pfn = 0;
                    }
                }

                if (index == chunkStart && chunkEnd == chunkStart + ChunkSize)
                {
                    _chunks[chunkIndex] = null;
                }
            }

            index = chunkEnd;
        }
    }

    /// <summary>The number of assigned entries in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    internal ulong CountAssigned(ulong from, ulong to)
    {
        ulong count = 0;
        ulong limit = Math.Min(to, (ulong)_chunks.Length << ChunkShift);
        for (ulong index = from; index < limit;)
        {
            ulong chunkIndex = index >> ChunkShift;
            ulong chunkEnd = Math.Min(limit, (chunkIndex << ChunkShift) + ChunkSize);
            ulong[]? entries = _chunks[chunkIndex];
            if (entries is not null)
            {
                for (ulong i = index; i < chunkEnd; i++)
                {
                    count += entries[i & ChunkMask] != 0 ? 1UL : 0UL;
                }
            }

            index = chunkEnd;
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong[] CreateChunk(ulong chunk) => _chunks[chunk] = SparseChunkPool.Rent();

    /// <summary>
    /// Hands every chunk back to the shared pool. The caller guarantees every entry is zero (the pool hands chunks
    /// out without clearing them), and must not use the array afterwards.
    /// </summary>
    internal void ReturnAllZeroedChunks()
    {
        for (var i = 0; i < _chunks.Length; i++)
        {
            if (_chunks[i] is { } chunk)
            {
                SparseChunkPool.Return(chunk);
                _chunks[i] = null;
            }
        }
    }

    private static ulong ChunkCount(ulong pages)
    {
        ulong chunks = (pages >> ChunkShift) + ((pages & ChunkMask) != 0 ? 1UL : 0UL);
        if (chunks > (ulong)Array.MaxLength)
        {
            throw new IoasidException(Errno.ENOMEM, $"A backing object of {pages} pages is too large to index.");
        }

        return chunks;
    }
}
