using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;

namespace Ioasid.Drivers.Tests.Hardware;

/// <summary>The shared device TLB (ATS) every hardware model uses: lookups by PASID, ATS invalidation semantics, the S-bit range encoding.</summary>
public class DeviceTlbTests
{
    private static readonly Rid Endpoint = Rid.Create(1, 0, 0);

    private static DmaRequest Read(ulong iova, Pasid? pasid = null) => new(Endpoint, pasid, new Iova(iova), 8, DmaAccess.Read);

    private static Translation Page(ulong iova, ulong pa, DmaAccess permissions = DmaAccess.ReadWrite) =>
        new(new Iova(iova), new PhysAddr(pa), 12, permissions);

    [Theory]
    [InlineData(0x1234_5000UL, false, 0x1234_5000UL, 0x1000UL)] // S = 0: one page
    [InlineData(0x1000_0001UL, true, 0x1000_0000UL, 0x2000UL)] // bit 12 clear: 8 KiB
    [InlineData(0x1000_1001UL, true, 0x1000_0000UL, 0x4000UL)] // bit 12 set, 13 clear: 16 KiB
    [InlineData(0x0002_1801UL, true, 0x0002_0000UL, 0x4000UL)] // bits 11:0 are not address
    [InlineData(0x001F_F000UL, true, 0x0000_0000UL, 0x40_0000UL)] // bits 20:12 set, 21 clear: 4 MiB
    [InlineData(0x7FFF_FFFF_FFFF_F000UL, true, 0UL, ulong.MaxValue)] // bits 62:12 set (the kernel's "everything")
    public void Ats_range_decoding_takes_the_size_from_the_lowest_clear_address_bit(ulong address, bool sizeBit, ulong start, ulong size)
    {
        DeviceTlb.DecodeAtsRange(address, sizeBit, out Iova decodedStart, out ulong decodedSize);
        Assert.Equal(start, decodedStart.Value);
        Assert.Equal(size, decodedSize);
    }

    [Fact]
    public void An_invalidation_without_pasid_drops_every_pasid_in_range_and_one_with_pasid_only_its_own()
    {
        var tlb = new DeviceTlb(Endpoint);
        tlb.Fill(Read(0x1000), Page(0x1000, 0xA000));
        tlb.Fill(Read(0x1000, new Pasid(5)), Page(0x1000, 0xB000));
        tlb.Fill(Read(0x1000, new Pasid(6)), Page(0x1000, 0xC000));
        tlb.Fill(Read(0x2000, new Pasid(5)), Page(0x2000, 0xD000));

        Assert.Equal(1, tlb.Invalidate(new Pasid(5), new Iova(0x1000), 0x1000));
        Assert.False(tlb.TryLookup(Read(0x1000, new Pasid(5)), out _));
        Assert.True(tlb.TryLookup(Read(0x1000), out Translation noPasid));
        Assert.Equal(0xA000UL, noPasid.OutputBase.Value);
        Assert.True(tlb.TryLookup(Read(0x1000, new Pasid(6)), out _));
        Assert.True(tlb.TryLookup(Read(0x2000, new Pasid(5)), out _));

        Assert.Equal(2, tlb.Invalidate(null, new Iova(0x1000), 0x1000)); // no PASID: the page's entries of every PASID
        Assert.Single(tlb.Snapshot());
        Assert.Equal(new DeviceTlbEntry(new Pasid(5), Page(0x2000, 0xD000)), tlb.Snapshot()[0]);
        Assert.Equal(2, tlb.InvalidationRequests);
        Assert.Equal(3, tlb.EntriesInvalidated);
    }

    [Fact]
    public void A_cached_translation_without_write_permission_misses_for_a_write()
    {
        var tlb = new DeviceTlb(Endpoint);
        tlb.Fill(Read(0x1000), Page(0x1000, 0xA000, DmaAccess.Read));
        Assert.True(tlb.TryLookup(Read(0x1000), out _));
        Assert.False(tlb.TryLookup(Read(0x1000) with { Access = DmaAccess.Write }, out _));
        Assert.Equal(1, tlb.Hits);
        Assert.Equal(1, tlb.Misses);
    }

    [Fact]
    public void A_translated_request_outputs_within_the_cached_page_and_aborts_outside_memory()
    {
        var memory = new PhysicalMemory(1UL << 20);
        TranslationResult inside = DeviceTlb.TranslatedRequest(Page(0x1000, 0xA000), new Iova(0x1ff8), memory);
        Assert.True(inside.IsSuccess);
        Assert.True(inside.DeviceTlbHit);
        Assert.False(inside.IotlbHit);
        Assert.Equal(0xAFF8UL, inside.Address.Value);
        Assert.Equal(8UL, inside.Length);
        Assert.Equal(FaultReason.ExternalAbort, DeviceTlb.TranslatedRequest(Page(0x1000, 1UL << 30), new Iova(0x1000), memory).Fault);
    }

    [Fact]
    public void Disabling_ats_on_an_endpoint_drops_its_device_tlb_and_signals_the_model()
    {
        int changes = 0;
        var endpoints = new AtsEndpoints(() => changes++);
        DeviceTlb tlb = endpoints.Enable(Endpoint);
        Assert.Same(tlb, endpoints.Enable(Endpoint)); // already on: same device TLB, no change
        tlb.Fill(Read(0x1000), Page(0x1000, 0xA000));
        Assert.Same(tlb, endpoints.Find(Endpoint));
        Assert.Null(endpoints.Find(Rid.Create(2, 0, 0)));

        Assert.True(endpoints.Disable(Endpoint));
        Assert.Equal(0, tlb.Count);
        Assert.False(endpoints.IsEnabled(Endpoint));
        Assert.False(endpoints.Disable(Endpoint));
        Assert.Equal(2, changes);
    }
}
