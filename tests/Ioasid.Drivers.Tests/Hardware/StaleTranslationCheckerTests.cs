using Ioasid.Drivers.Hardware;

namespace Ioasid.Drivers.Tests.Hardware;

public class StaleTranslationCheckerTests
{
    private static readonly Rid Device = Rid.Create(1, 2, 3);

    [Fact]
    public void Any_walker_can_drive_the_checker()
    {
        var checker = new StaleTranslationChecker(capacity: 2);
        var seen = new List<StaleTranslation>();
        checker.OnStale = seen.Add;
        var cached = new Translation(new Iova(0x20_0000), new PhysAddr(0x4000_0000), 21, DmaAccess.ReadWrite);
        var request = new DmaRequest(Device, new Pasid(3), new Iova(0x21_2345), 8, DmaAccess.Read);

        // Same output for the accessed address, even through a smaller page: not stale.
        var split = new FixedWalker(new Translation(new Iova(0x21_2000), new PhysAddr(0x4001_2000), 12, DmaAccess.ReadWrite));
        Assert.True(checker.Check(request, 9, cached, ref split));

        // Narrower permissions: stale.
        var readOnly = new FixedWalker(cached with { Permissions = DmaAccess.Read });
        Assert.False(checker.Check(request, 9, cached, ref readOnly));

        // Another output: stale.
        var moved = new FixedWalker(cached with { OutputBase = new PhysAddr(0x8000_0000) });
        Assert.False(checker.Check(request, 9, cached, ref moved));

        // Unmapped: stale, and past capacity the report is counted but not kept.
        var none = new FixedWalker(null);
        Assert.False(checker.Check(request, 9, cached, ref none));

        Assert.Equal(4, checker.Checks);
        Assert.Equal(3, checker.StaleHits);
        Assert.Equal(2, checker.Reports.Count);
        Assert.Equal(3, seen.Count);
        Assert.Equal(new StaleTranslation(Device, new Pasid(3), new Iova(0x21_2345), DmaAccess.Read, 9, cached, cached with { Permissions = DmaAccess.Read }), checker.Reports[0]);
        Assert.Null(seen[2].Current);
        checker.Clear();
        Assert.Empty(checker.Reports);
        Assert.Equal(3, checker.StaleHits);
    }

    private struct FixedWalker(Translation? result) : ITranslationWalker
    {
        public bool TryWalk(Iova iova, out Translation translation)
        {
            translation = result ?? default;
            return result is not null && result.Value.Contains(iova);
        }
    }
}
