using System.Threading;
using Ioasid.Core.Iommufd;

namespace Ioasid.Benchmarks.Iommufd;

/// <summary>
/// Brings an IOAS's map and unmap paths to fully optimised code before measurement. A benchmark that maps 1 GiB once
/// per iteration runs those paths only a handful of times during BenchmarkDotNet's warmup, so its first measured
/// iterations ran tier-0 or OSR code: SmmuIoasBenchmarks.Map1GiBPerPage read 55–60 ns per page for nine iterations and
/// 21–28 ns for the rest of the same run.
/// </summary>
internal static class IoasWarmup
{
    private const ulong Chunk = 2UL << 20;

    /// <summary>Maps and unmaps 2 MiB at <paramref name="iova"/> from <paramref name="va"/> until tiered compilation has promoted every method on the path.</summary>
    public static void Run(Ioas ioas, ulong va, Iova iova)
    {
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                ioas.Map(va, Chunk, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, iova);
                ioas.Unmap(iova, Chunk);
            }

            Thread.Sleep(200); // promotion to tier 1 happens on a background thread after a quiet period
        }
    }
}
