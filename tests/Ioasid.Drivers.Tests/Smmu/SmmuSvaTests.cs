using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>
/// SMMUv3 has no SVA in this model: SMMU SVA points a context descriptor at the process's arm64 translation table
/// (TTB0, TCR, MAIR, ASID shared with the CPU), and the simulated CPU builds x86-64 tables, so the driver offers no
/// <c>domain_alloc_sva</c> and the core answers EOPNOTSUPP.
/// </summary>
public class SmmuSvaTests
{
    [Fact]
    public void Sva_bind_fails_with_eopnotsupp_and_changes_nothing_because_the_simulated_cpu_is_x86_64()
    {
        var rig = new SmmuRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var mm = new Machine(64UL << 20).CreateProcess().Mm;

        var error = Assert.Throws<IoasidException>(() => rig.Core.BindSva(dev, mm));

        Assert.Equal(Errno.EOPNOTSUPP, error.Errno);
        Assert.Null(rig.Driver.Ops.DomainAllocSva);
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(0, rig.Core.GlobalPasids.Count);
        Assert.Empty(rig.Core.GetAttachedPasids(dev));
    }
}
