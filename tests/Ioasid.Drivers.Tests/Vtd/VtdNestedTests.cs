using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Drivers.Tests.Vtd;

/// <summary>
/// Nesting through iommufd: the user's stage-1 table lives in the user's own memory, mapped into the IOAS at
/// guest-physical addresses; the hardware walks it through the nest parent's second stage.
/// </summary>
public sealed class VtdNestedTests : IDisposable
{
    private const ulong Gpa = 0x10_0000;      // where the user's region sits in the IOAS
    private const ulong S1Iova = 0x7654_3000; // the address the device uses

    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _iommufd;
    private readonly IommuCore _core = new();
    private readonly VtdIommuDriver _driver;
    private readonly VtdUnit _unit;
    private readonly Ioas _ioas;
    private readonly IommufdDevice _dev;
    private readonly ulong _va;

    public VtdNestedTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        _driver = new VtdIommuDriver(_core, _machine.Memory);
        _unit = _driver.AddUnit("dmar0");
        _core.RegisterDriver(_driver.Ops);
        _ioas = _iommufd.AllocIoas();
        _dev = _iommufd.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(1, 0, 0), "vf", pasidBits: 8)));
        _va = _process.Mm.Map(8 * 4096);
        Assert.Equal(Gpa, _ioas.Map(_va, 8 * 4096, IoasMapFlags.ReadWrite | IoasMapFlags.FixedIova, new Iova(Gpa)).Value);
    }

    public void Dispose() => _iommufd.Dispose();

    // The guest's 4-level first-stage table: pages 0–3 of the region are PML4, PDPT, PD, PT; S1Iova → page `dataPage`.
    private void BuildStage1(int dataPage, bool writable = true)
    {
        ulong va = S1Iova;
        WriteEntry(0, (int)((va >> 39) & 511), FlPte.Table(new PhysAddr(Gpa + 0x1000)));
        WriteEntry(1, (int)((va >> 30) & 511), FlPte.Table(new PhysAddr(Gpa + 0x2000)));
        WriteEntry(2, (int)((va >> 21) & 511), FlPte.Table(new PhysAddr(Gpa + 0x3000)));
        WriteEntry(3, (int)((va >> 12) & 511), FlPte.Leaf(new PhysAddr(Gpa + ((ulong)dataPage * 0x1000)), 1, writable));
    }

    private void WriteEntry(int page, int index, ulong value) =>
        _process.Mm.Write(_va + ((ulong)page * 0x1000) + ((ulong)index * 8), BitConverter.GetBytes(value));

    private HwptNested AllocNested(out HwptPaging parent)
    {
        parent = _iommufd.AllocHwptPaging(_dev, _ioas.Id, HwptAllocFlags.NestParent);
        return _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, VtdS1Data.DataType, new VtdS1Data(0, Gpa, 48).ToBytes());
    }

    private DmaResult Dma(DmaAccess access, byte[] buffer) =>
        _unit.Hardware.Dma(new DmaRequest(_dev.Device.Rid, null, new Iova(S1Iova + 0x20), (ulong)buffer.Length, access), buffer);

    [Fact]
    public void A_user_stage1_table_in_user_memory_is_walked_through_the_stage2_parent()
    {
        BuildStage1(dataPage: 4);
        _process.Mm.Write(_va + (4 * 4096) + 0x20, Encoding.ASCII.GetBytes("nested!"));
        var nested = AllocNested(out _);
        Assert.Same(nested, _dev.Attach(nested.Id));
        var entry = VtdIommuDriver.DataOf(_dev.Device).ReadPasidEntry(0);
        Assert.Equal(PasidGranularTranslationType.Nested, entry.Pgtt);
        Assert.Equal(Gpa, entry.FirstStageRoot.Value);

        var buffer = new byte[7];
        Assert.True(Dma(DmaAccess.Read, buffer).IsSuccess);
        Assert.Equal("nested!", Encoding.ASCII.GetString(buffer));
        Assert.True(Dma(DmaAccess.Write, Encoding.ASCII.GetBytes("written")).IsSuccess);
        var back = new byte[7];
        _process.Mm.Read(_va + (4 * 4096) + 0x20, back);
        Assert.Equal("written", Encoding.ASCII.GetString(back));
    }

    [Fact]
    public void A_stage1_change_needs_the_users_invalidation_which_reaches_the_hardware()
    {
        BuildStage1(dataPage: 4);
        _process.Mm.Write(_va + (4 * 4096) + 0x20, Encoding.ASCII.GetBytes("four"));
        _process.Mm.Write(_va + (5 * 4096) + 0x20, Encoding.ASCII.GetBytes("five"));
        var nested = AllocNested(out _);
        _dev.Attach(nested.Id);
        var buffer = new byte[4];
        Assert.True(Dma(DmaAccess.Read, buffer).IsSuccess);
        _unit.Hardware.StaleChecker.Enabled = true;

        BuildStage1(dataPage: 5); // the guest edits its table...
        Assert.True(Dma(DmaAccess.Read, buffer).IsSuccess);
        Assert.Equal("four", Encoding.ASCII.GetString(buffer)); // ...the IOTLB still has the old one
        Assert.Single(_unit.Hardware.StaleChecker.Reports);

        var inv = new VtdS1Invalidation(S1Iova, 1, VtdS1Invalidation.Leaf).ToBytes();
        long piotlb = _unit.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb);
        nested.Invalidate(VtdS1Invalidation.DataType, inv, VtdS1Invalidation.Size, 1, out uint handled);
        Assert.Equal(1u, handled);
        Assert.Equal(piotlb + 1, _unit.Hardware.DescriptorsExecuted(InvalidationDescriptorType.PasidIotlb));
        Assert.True(Dma(DmaAccess.Read, buffer).IsSuccess);
        Assert.Equal("five", Encoding.ASCII.GetString(buffer));

        // bad entries: unknown flag → EOPNOTSUPP with 0 handled; misaligned → EINVAL
        var bad = new VtdS1Invalidation(S1Iova, 1, 2).ToBytes();
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => nested.Invalidate(0, bad, 24, 1, out _)).Errno);
        var misaligned = new VtdS1Invalidation(S1Iova + 8, 1, 0).ToBytes();
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => nested.Invalidate(0, misaligned, 24, 1, out _)).Errno);
    }

    [Fact]
    public void Unmapping_the_parent_invalidates_the_nested_domains_combined_entries()
    {
        BuildStage1(dataPage: 4);
        var nested = AllocNested(out _);
        _dev.Attach(nested.Id);
        var buffer = new byte[4];
        Assert.True(Dma(DmaAccess.Read, buffer).IsSuccess);
        _ioas.Unmap(new Iova(Gpa), 8 * 4096);
        Assert.False(Dma(DmaAccess.Read, buffer).IsSuccess);
    }

    [Fact]
    public void Nested_allocation_checks_parent_type_and_data_as_the_kernel_does()
    {
        var plain = _iommufd.AllocHwptPaging(_dev, _ioas.Id);
        var parent = _iommufd.AllocHwptPaging(_dev, _ioas.Id, HwptAllocFlags.NestParent);
        var s1 = new VtdS1Data(0, Gpa, 48).ToBytes();
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, plain.Id, HwptAllocFlags.None, 1, s1)).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, 2, s1)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, 1, s1.AsSpan(0, 16))).Errno);
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, 1, new VtdS1Data(8, Gpa, 48).ToBytes())).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, 1, new VtdS1Data(0, Gpa, 39).ToBytes())).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<IoasidException>(() => _iommufd.AllocHwptNested(_dev, parent.Id, HwptAllocFlags.None, 1, new VtdS1Data(0, Gpa, 57).ToBytes())).Errno);
    }
}
