using Ioasid.TestKit;

namespace Ioasid.TestKit.Tests;

public class AllocationsTests
{
    [Fact]
    public void A_loop_that_allocates_every_run_is_reported()
    {
        var sink = new List<byte[]>();
        Assert.True(Allocations.SteadyState(() => sink.Add(new byte[1000])) >= 1000);
    }

    [Fact]
    public void A_loop_that_allocates_only_once_is_steady_at_zero()
    {
        byte[]? once = null;
        var total = 0;
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            once ??= new byte[1000];
            total += once.Length;
        }));
        Assert.Equal(2000, total); // the warm-up run, then one measured run: it allocated nothing, so measuring stopped
    }
}
