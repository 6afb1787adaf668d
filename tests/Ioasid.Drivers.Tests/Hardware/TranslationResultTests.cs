using Ioasid.Drivers.Hardware;
using Xunit;

namespace Ioasid.Drivers.Tests.Hardware;

// TranslationResult packs its six properties into three words; every property must still read back what was set,
// whatever else was set with it.
public class TranslationResultTests
{
    [Fact]
    public void A_translation_reads_back_its_address_length_and_hit()
    {
        TranslationResult r = TranslationResult.Translated(new PhysAddr(0xFFFF_FFFF_F123), 0xE00, iotlbHit: true);
        Assert.True(r.IsSuccess);
        Assert.Equal(FaultReason.None, r.Fault);
        Assert.Equal(0u, r.VendorCode);
        Assert.Equal(0xFFFF_FFFF_F123UL, r.Address.Value);
        Assert.Equal(0xE00UL, r.Length);
        Assert.True(r.IotlbHit);
        Assert.False(r.DeviceTlbHit);
        Assert.False(TranslationResult.Translated(new PhysAddr(0x1000), 8, iotlbHit: false).IotlbHit);
    }

    [Fact]
    public void A_fault_reads_back_its_reason_and_the_full_vendor_code()
    {
        TranslationResult r = TranslationResult.Faulted(FaultReason.Permission, uint.MaxValue);
        Assert.False(r.IsSuccess);
        Assert.Equal(FaultReason.Permission, r.Fault);
        Assert.Equal(uint.MaxValue, r.VendorCode);
        Assert.Equal(PhysAddr.Zero, r.Address);
        Assert.Equal(0UL, r.Length);
        Assert.False(r.IotlbHit);
        Assert.False(r.DeviceTlbHit);
    }

    [Fact]
    public void Init_and_with_set_one_property_and_keep_the_others()
    {
        TranslationResult hit = TranslationResult.Translated(new PhysAddr(0x2000), 0x1000, iotlbHit: true) with { DeviceTlbHit = true };
        Assert.True(hit.IotlbHit);
        Assert.True(hit.DeviceTlbHit);
        Assert.Equal(0x2000UL, hit.Address.Value);

        TranslationResult cleared = hit with { IotlbHit = false };
        Assert.False(cleared.IotlbHit);
        Assert.True(cleared.DeviceTlbHit);

        var built = new TranslationResult { VendorCode = 0x8000_0001, Fault = FaultReason.Translation, Length = 7 };
        Assert.Equal(0x8000_0001u, built.VendorCode);
        Assert.Equal(FaultReason.Translation, built.Fault);
        Assert.Equal(7UL, built.Length);
        Assert.Equal(built, built with { });
        Assert.NotEqual(built, built with { VendorCode = 2 });
    }
}
