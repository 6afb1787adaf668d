namespace Ioasid.TestKit;

/// <summary>
/// Measures what a warmed-up piece of code allocates per run on the current thread. The runtime itself may allocate
/// once on a thread while code is still settling (tier-up, on-stack replacement), which says nothing about the code
/// under test; an allocation the code makes recurs on every run. So the loop is warmed, then measured up to
/// <c>attempts</c> times, and the smallest figure is returned: 0 only when a whole run allocated nothing.
/// </summary>
public static class Allocations
{
    /// <summary>Bytes <paramref name="loop"/> allocated in its cheapest measured run after one warm-up run.</summary>
    public static long SteadyState(Action loop, int attempts = 4)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attempts);
        loop();
        long least = long.MaxValue;
        for (var attempt = 0; attempt < attempts && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            loop();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
