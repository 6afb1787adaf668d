using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>PASID attach and detach (drivers.md §4.3.2–3, §5 invariant 12): per-device PASID tables, RID_PASID.</summary>
public class VtdPasidTests
{
    [Fact]
    public void Pasid_attach_on_one_device_leaves_other_devices_and_the_rid_untouched()
    {
        var rig = new VtdRig();
        var d1 = rig.AddDevice(1);
        var d2 = rig.AddDevice(2);
        var rid = rig.Attach(d1);
        rig.Attach(d2, rid);
        rig.Map(rid, 0x1000, 0xA000, K4);
        var data1 = VtdIommuDriver.DataOf(d1);
        var data2 = VtdIommuDriver.DataOf(d2);
        Assert.NotEqual(data1.PasidDirectory, data2.PasidDirectory); // per-device tables, never in a domain

        byte[] before2 = Snapshot(rig, data2);
        PasidEntry rid1 = data1.ReadPasidEntry(0);
        var pasidDomain = rig.AllocDomain(d1);
        rig.Map(pasidDomain, 0x1000, 0xB000, K4);
        Assert.Equal(Errno.None, rig.Core.SetPasid(d1, new Pasid(5), pasidDomain));

        Assert.Equal(before2, Snapshot(rig, data2));
        Assert.Equal(rid1, data1.ReadPasidEntry(0));
        Assert.Equal(0xA000UL, Translate(d1, 0x1000).Address.Value);
        Assert.Equal(0xB000UL, Translate(d1, 0x1000, pasid: new Pasid(5)).Address.Value);
        Assert.Equal(0xA000UL, Translate(d2, 0x1000).Address.Value);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Translate(d2, 0x1000, pasid: new Pasid(5))));
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Translate(d1, 0x1000, pasid: new Pasid(6))));
        Assert.Equal(pasidDomain.Root, data1.ReadPasidEntry(5).SecondStageRoot);

        // detach = the blocked domain's set_dev_pasid: PASID 5 faults, the RID keeps working
        rig.Core.RemovePasid(d1, new Pasid(5));
        Assert.False(data1.ReadPasidEntry(5).Present);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Translate(d1, 0x1000, pasid: new Pasid(5))));
        Assert.Equal(0xA000UL, Translate(d1, 0x1000).Address.Value);
    }

    [Fact]
    public void Rid_traffic_uses_pasid_table_entry_rid_pasid_and_shares_its_domain_id()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        var data = VtdIommuDriver.DataOf(dev);
        Assert.Equal(0u, VtdDeviceData.RidPasid);
        Assert.True(data.ReadPasidEntry(0).Present);
        Assert.True(domain.Tags.TryGetDomainId(rig.Unit, out ushort did));
        Assert.Equal(did, data.ReadPasidEntry(0).DomainId);

        // the same domain on a PASID is installed under the same DID: one tag per unit
        Assert.Equal(Errno.None, rig.Core.SetPasid(dev, new Pasid(3), domain));
        Assert.Equal(did, data.ReadPasidEntry(3).DomainId);
        Assert.Single(domain.Tags.Units);
        Assert.Equal(2, domain.Tags.Attachments.Count);
    }

    private static byte[] Snapshot(VtdRig rig, VtdDeviceData data)
    {
        var bytes = new byte[4096 * ((int)data.DirectoryPages + 1)];
        rig.Memory.Read(data.PasidDirectory, bytes.AsSpan(0, 4096 * (int)data.DirectoryPages));
        ulong table = rig.ReadU64(data.PasidDirectory.Value) & ~0xFFFUL;
        if (table != 0)
        {
            rig.Memory.Read(new PhysAddr(table), bytes.AsSpan(4096 * (int)data.DirectoryPages));
        }

        return bytes;
    }
}
