using Ioasid.Core.IoPageTable;

namespace Ioasid.Core.Tests.IoPageTable;

/// <summary>The vector scans must agree with their scalar versions (which run on machines without AVX-512).</summary>
public sealed class NodeScanTests
{
    [Fact]
    public void Vector_and_scalar_scans_agree()
    {
        var rng = new Random(9);
        var lo = new ulong[NodeScan.MaxRun + NodeScan.Padding];
        var hi = new ulong[NodeScan.MaxRun + NodeScan.Padding];
        for (int round = 0; round < 20_000; round++)
        {
            int count = rng.Next(0, NodeScan.MaxRun + 1);

            // A sorted, disjoint run (sometimes touching the top of the space), with garbage after `count`.
            ulong cursor = rng.Next(4) == 0 ? ulong.MaxValue - (ulong)rng.Next(0, 64 * 40) : (ulong)rng.NextInt64();
            ulong step = rng.Next(3) == 0 ? 1UL : 1UL << rng.Next(0, 20);
            for (int j = 0; j < lo.Length; j++)
            {
                if (j < count && cursor <= ulong.MaxValue - 2 * step - 2)
                {
                    lo[j] = cursor;
                    hi[j] = cursor + (ulong)rng.Next(0, (int)Math.Min(step, 1000));
                    cursor = hi[j] + 1 + (rng.Next(3) == 0 ? 0 : (ulong)rng.Next(0, (int)Math.Min(step, 1 << 20)));
                }
                else if (j < count)
                {
                    count = j;
                    lo[j] = (ulong)rng.NextInt64();
                    hi[j] = (ulong)rng.NextInt64();
                }
                else
                {
                    lo[j] = (ulong)rng.NextInt64() * 2;
                    hi[j] = (ulong)rng.NextInt64() * 2;
                }
            }

            ulong x = rng.Next(8) switch
            {
                0 => 0,
                1 => ulong.MaxValue,
                2 when count > 0 => lo[rng.Next(count)],
                _ => count > 0 ? lo[0] + (ulong)rng.NextInt64() % (hi[count - 1] - lo[0] + 2) : (ulong)rng.NextInt64(),
            };
            ulong need = rng.Next(4) == 0 ? (ulong)rng.Next(0, 3) : (ulong)rng.Next(0, 1 << 20);

            Assert.Equal(NodeScan.CountLessOrEqualScalar(ref lo[0], count, x), NodeScan.CountLessOrEqual(ref lo[0], count, x));
            Assert.Equal(NodeScan.MaxHoleScalar(ref lo[0], ref hi[0], count), NodeScan.MaxHole(ref lo[0], ref hi[0], count));
            Assert.Equal(NodeScan.MaxScalar(ref hi[0], count), NodeScan.Max(ref hi[0], count));
            Assert.Equal(NodeScan.AtLeastMaskScalar(ref hi[0], count, need), NodeScan.AtLeastMask(ref hi[0], count, need));
            Assert.Equal(NodeScan.HoleMaskScalar(ref lo[0], ref hi[0], count, need), NodeScan.HoleMask(ref lo[0], ref hi[0], count, need));

            // And the scalar search is the upper-bound index.
            Assert.Equal(lo.Take(count).Count(k => k <= x), NodeScan.CountLessOrEqualScalar(ref lo[0], count, x));
        }
    }
}
