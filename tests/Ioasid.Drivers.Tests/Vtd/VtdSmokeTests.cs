using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

public class VtdSmokeTests
{
    [Fact]
    public void Dma_translates_through_a_second_stage_domain_and_faults_after_unmap()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        rig.Map(domain, 0x10_0000, 0x4000_0000, 0x4000);
        var r = VtdRig.Translate(dev, 0x10_2008);
        Assert.True(r.IsSuccess, VtdRig.Code(r).ToString());
        Assert.Equal(0x4000_2008UL, r.Address.Value);
        Assert.True(VtdRig.Translate(dev, 0x10_2008).IotlbHit);
        Assert.Equal(0x4000UL, rig.Core.Unmap(domain, new Iova(0x10_0000), 0x4000));
        var f = VtdRig.Translate(dev, 0x10_2008);
        Assert.False(f.IsSuccess);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, VtdRig.Code(f));
    }
}
