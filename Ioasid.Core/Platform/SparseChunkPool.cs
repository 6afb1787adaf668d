using System;
using System.Collections.Concurrent;

namespace Ioasid.Core.Platform;

/// <summary>
/// Zeroed 512-entry chunks for per-page state, shared by every sparse page array. Pinning a mapping for a domain
/// needs per-page state; reusing the chunks of mappings that were unpinned keeps map/unmap cycles free of
/// allocation. Bounded, so a burst of pinning does not keep its memory forever.
/// </summary>
internal static class SparseChunkPool
{
    private const int MaxPooledChunks = 1 << 16; // 64 Ki chunks = 256 MiB of pages' state, 256 MiB of memory at most
    private static readonly ConcurrentBag<ulong[]> s_chunks = new();

    public static ulong[] Rent() => s_chunks.TryTake(out var chunk) ? chunk : new ulong[SparsePageArray.ChunkSize];

    /// <summary>Returns a chunk whose entries are all zero.</summary>
    public static void Return(ulong[] chunk)
    {
        if (chunk.Length == SparsePageArray.ChunkSize && s_chunks.Count < MaxPooledChunks)
        {
            s_chunks.Add(chunk);
        }
    }
}
