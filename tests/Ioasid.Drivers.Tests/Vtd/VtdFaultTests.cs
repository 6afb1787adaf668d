using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;
using static Ioasid.Drivers.Tests.Vtd.VtdRig;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>Fault reasons and fault recording (drivers.md §2.10, §5 invariants 16 and 20).</summary>
public class VtdFaultTests
{
    [Fact]
    public void Missing_root_context_directory_and_pasid_entries_fault_1h_2h_51h_59h_with_the_record_fields()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1, pasidBits: 8);
        var domain = rig.Attach(dev);
        var hw = rig.Hardware;
        var req = new DmaRequest(Rid.Create(5, 0, 0), null, new Iova(0x1000), 1, DmaAccess.Read);
        Assert.Equal((uint)VtdFaultReason.RootEntryNotPresent, hw.Translate(req).VendorCode);
        req = new DmaRequest(Rid.Create(1, 7, 0), null, new Iova(0x2000), 1, DmaAccess.Write);
        Assert.Equal((uint)VtdFaultReason.ContextEntryNotPresent, hw.Translate(req).VendorCode);
        Assert.Equal(VtdFaultReason.PasidDirectoryEntryNotPresent, Code(Translate(dev, 0x3000, pasid: new Pasid(100))));
        Assert.Equal(3, rig.Driver.ServiceFaults()); // the next fault has the same SID: it would be compressed while pending
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, Code(Translate(dev, 0x4000, DmaAccess.Write, new Pasid(5))));

        Assert.Equal(1, rig.Driver.ServiceFaults());
        var log = rig.Driver.FaultLog.Snapshot();
        Assert.Equal(VtdFaultReason.RootEntryNotPresent, log[0].Code);
        Assert.Equal(Rid.Create(5, 0, 0), log[0].Rid);
        Assert.Equal(DmaAccess.Read, log[0].Access);
        Assert.Equal(VtdFaultReason.ContextEntryNotPresent, log[1].Code);
        Assert.Equal(0x2000UL, log[1].Iova.Value);
        Assert.Equal(DmaAccess.Write, log[1].Access);
        Assert.Equal(new Pasid(100), log[2].Pasid);
        Assert.Equal(VtdFaultReason.PasidEntryNotPresent, log[3].Code);
        Assert.Equal(new Pasid(5), log[3].Pasid);
        Assert.Equal(dev.Rid, log[3].Rid);
        Assert.Equal(0u, hw.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.PrimaryPendingFault);
        _ = domain;
    }

    [Fact]
    public void A_second_fault_while_the_only_record_is_pending_sets_pfo_and_the_same_sid_is_compressed()
    {
        var rig = new VtdRig(new VtdCapabilities { FaultRecords = 1 });
        var a = rig.AddDevice(1);
        var b = rig.AddDevice(2);
        var hw = rig.Hardware;
        Translate(a, 0x1000);
        Assert.Equal(VtdRegisters.PrimaryPendingFault, hw.ReadRegister32(VtdRegisters.FaultStatus) & 3);
        Translate(a, 0x2000); // same SID pending: dropped silently
        Assert.Equal(1, hw.FaultRecorder.Compressed);
        Assert.Equal(0u, hw.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.PrimaryFaultOverflow);
        var r = Translate(b, 0x3000); // the only slot is pending: overflow
        Assert.False(r.IsSuccess);
        Assert.NotEqual(0u, hw.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.PrimaryFaultOverflow);
        ulong high = hw.ReadRegister64(VtdCapabilities.FaultRecordingOffset + 8);
        Assert.Equal(a.Rid.Bdf, (ushort)high);
        Assert.Equal(0x1000UL, hw.ReadRegister64(VtdCapabilities.FaultRecordingOffset));

        // while PFO is set nothing is recorded; the handler clears F and PFO, then b's fault is recorded
        Assert.Equal(1, rig.Driver.ServiceFaults());
        Translate(b, 0x3000);
        high = hw.ReadRegister64(VtdCapabilities.FaultRecordingOffset + 8);
        Assert.Equal(b.Rid.Bdf, (ushort)high);
        Assert.NotEqual(0UL, high & VtdFaultRecord.FaultBit);
    }

    [Fact]
    public void Fpd_suppresses_the_record_of_a_qualified_fault_but_still_blocks()
    {
        var rig = new VtdRig();
        var dev = rig.AddDevice(1);
        var domain = rig.Attach(dev);
        var data = VtdIommuDriver.DataOf(dev);
        ulong pe = data.PasidEntryAddress(0, allocate: false).Value;
        rig.Memory.WriteU64(new PhysAddr(pe), rig.ReadU64(pe) | PasidEntry.FaultProcessingDisableBit);
        rig.Unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCacheGlobalGranularity, 0, 0));
        rig.Unit.Flush();
        var r = Translate(dev, 0x1000);
        Assert.Equal(VtdFaultReason.ReadNotPermitted, Code(r));
        Assert.Equal(1, rig.Hardware.FaultRecorder.Suppressed);
        Assert.Equal(0, rig.Hardware.FaultRecorder.Recorded);
        _ = domain;
    }
}
