using System.Buffers.Binary;
using System.Text;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Tests.Smmu;

/// <summary>The SMMUv3 driver under iommufd: IOAS DMA end to end, GET_HW_INFO, and nested HWPTs with user invalidation.</summary>
public sealed class SmmuIommufdTests : IDisposable
{
    private readonly Machine _machine = new(1UL << 30);
    private readonly UserProcess _process;
    private readonly IommufdContext _iommufd;
    private readonly IommuCore _core = new();
    private readonly SmmuV3Driver _driver;
    private readonly Ioas _ioas;

    public SmmuIommufdTests()
    {
        _process = _machine.CreateProcess();
        _process.MemlockLimit = 64UL << 20;
        _iommufd = new IommufdContext(_process);
        _driver = new SmmuV3Driver(_core, _machine.Memory);
        _core.RegisterDriver(_driver.Ops);
        _ioas = _iommufd.AllocIoas();
    }

    public void Dispose() => _iommufd.Dispose();

    private IommufdDevice Bind(byte bus, int pasidBits = 0) =>
        _iommufd.BindDevice(_core, _core.AddDevice(new PciDevice(Rid.Create(bus, 0, 0), $"dev{bus}", pasidBits: pasidBits)));

    [Fact]
    public void A_device_reads_user_bytes_through_an_ioas_and_faults_after_unmap()
    {
        var dev = Bind(1);
        dev.Attach(_ioas.Id);
        ulong va = _process.Mm.Map(0x4000);
        _process.Mm.Write(va + 0xff8, Encoding.ASCII.GetBytes("hello, smmu"));
        Iova iova = _ioas.Map(va, 0x4000, IoasMapFlags.ReadWrite);
        var buffer = new byte[11];
        Assert.True(_driver.Hardware.Dma(DmaRequest.ForRead(dev.Device.Rid, iova + 0xff8, 11), buffer).IsSuccess);
        Assert.Equal("hello, smmu", Encoding.ASCII.GetString(buffer));
        _ioas.Unmap(iova, 0x4000);
        Assert.Equal(FaultReason.Translation, _driver.Hardware.Dma(DmaRequest.ForRead(dev.Device.Rid, iova, 4), new byte[4]).Fault);
    }

    [Fact]
    public void Get_hw_info_reports_the_smmuv3_struct_and_the_pasid_width()
    {
        var dev = Bind(1, pasidBits: 8);
        HwInfo info = dev.GetHwInfo();
        Assert.Equal(SmmuHwInfo.Type, info.Type);
        Assert.Equal(40, info.Data.Length);
        Assert.Equal(_driver.Hardware.Id.Idr1, BinaryPrimitives.ReadUInt32LittleEndian(info.Data.AsSpan(12)));
    }

    [Fact]
    public void A_nested_hwpt_over_a_nest_parent_translates_and_takes_user_invalidations()
    {
        var dev = Bind(1);
        HwptPaging parent = _iommufd.AllocHwptPaging(dev, _ioas.Id, HwptAllocFlags.NestParent);
        Assert.Equal(SmmuStage.Stage2, ((SmmuPagingDomain)parent.Domain).Stage);

        var data = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(data, 1 | (0b100 << 1)); // a vSTE saying bypass: plain stage 2
        HwptNested nested = _iommufd.AllocHwptNested(dev, parent.Id, HwptAllocFlags.None, SmmuNestedDomain.DataType, data);
        dev.Attach(nested.Id);
        ulong va = _process.Mm.Map(0x1000);
        _process.Mm.Write(va, "ipa"u8.ToArray());
        Iova ipa = _ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite);
        var buffer = new byte[3];
        Assert.True(_driver.Hardware.Dma(DmaRequest.ForRead(dev.Device.Rid, ipa, 3), buffer).IsSuccess);
        Assert.Equal("ipa"u8.ToArray(), buffer);

        var entries = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(entries, SmmuCommand.TlbiNsnhAll().Qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(entries.AsSpan(16), SmmuCommand.CfgiSte(0x100).Qw0);
        nested.Invalidate(SmmuNestedDomain.InvalidateDataType, default, 16, 0, out uint handled); // probe the type
        long nhAll = _driver.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhAll];
        var e = Assert.Throws<IoasidException>(() => nested.Invalidate(SmmuNestedDomain.InvalidateDataType, entries, 16, 2, out _));
        Assert.Equal(Errno.EIO, e.Errno);
        Assert.Contains("after 1 of 2", e.Message);
        Assert.Equal(nhAll + 1, _driver.Hardware.CommandCounts[(int)SmmuOpcode.TlbiNhAll]); // NSNH_ALL narrowed to NH_ALL(VMID)
    }
}
