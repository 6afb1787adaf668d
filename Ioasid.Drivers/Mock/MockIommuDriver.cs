using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Mock;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// The mock IOMMU driver, written the way an out-of-tree driver author would write one: a partial class whose
/// <c>[IommuOp]</c> members become its generated <c>iommu_ops</c> table. It programs one <see cref="MockIommuHardware"/>
/// (the unit) through that model's registers and invalidation commands only, and keeps its page tables in
/// simulated physical memory. Like the kernel's selftest mock it has a fixed aperture and can report reserved
/// regions; unlike it, its pages are 4 KiB and 2 MiB (the format is documented on <see cref="MockPteFormat"/>).
/// </summary>
[IommuDriver(DriverNames.Mock)]
public sealed partial class MockIommuDriver
{
    /// <summary>First IOVA a mock paging domain translates (the kernel mock's <c>MOCK_APERTURE_START</c>).</summary>
    public const ulong ApertureStart = 1UL << 24;

    /// <summary>Last IOVA a mock paging domain translates (the kernel mock's <c>MOCK_APERTURE_LAST</c>).</summary>
    public const ulong ApertureLast = (1UL << 31) - 1;

    private readonly IommuCore _core;
    private readonly Func<PciDevice, bool> _claims;
    private ulong _nextTag;

    /// <summary>
    /// Creates the driver for one mock unit over <paramref name="memory"/>; register it with
    /// <c>core.RegisterDriver(driver.Ops)</c>. <paramref name="claims"/> chooses which PCI functions sit behind this
    /// unit (all of them by default).
    /// </summary>
    public MockIommuDriver(IommuCore core, PhysicalMemory memory, string unitName = "mock0", Func<PciDevice, bool>? claims = null)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(memory);
        _core = core;
        _claims = claims ?? (_ => true);
        Memory = memory;
        Hardware = new MockIommuHardware(memory);
        Unit = new MockUnit(unitName, Hardware);
        Blocked = new MockBlockedDomain(this);
        Identity = new MockIdentityDomain(this);
    }

    /// <summary>The hardware model this driver programs.</summary>
    public MockIommuHardware Hardware { get; }

    /// <summary>The unit every claimed device is probed onto.</summary>
    public MockUnit Unit { get; }

    /// <summary>The simulated memory the page tables live in.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>The <c>hw_info</c> type the mock reports: the selftest's <c>IOMMU_HW_INFO_TYPE_SELFTEST</c>.</summary>
    public const uint HwInfoType = 0xfeedbeef;

    /// <summary>The <c>test_reg</c> value of the mock's <c>hw_info</c> blob (the selftest's <c>IOMMU_HW_INFO_SELFTEST_REGVAL</c>).</summary>
    public const uint HwInfoTestRegister = 0xdeadbeef;

    /// <summary>RIDs whose devices lack dirty tracking (the selftest's <c>MOCK_FLAGS_DEVICE_NO_DIRTY</c>); empty by default.</summary>
    public HashSet<Rid> DevicesWithoutDirtyTracking { get; } = new();

    /// <summary>Reserved regions reported for every device (e.g. an MSI window); empty by default.</summary>
    public List<ReservedRegion> ReservedRegions { get; } = new();

    /// <summary>The static blocking domain (<c>blocked_domain</c>).</summary>
    [IommuOp(IommuOpKind.BlockedDomain)]
    public MockBlockedDomain Blocked { get; }

    /// <summary>The static identity domain (<c>identity_domain</c>).</summary>
    [IommuOp(IommuOpKind.IdentityDomain)]
    public MockIdentityDomain Identity { get; }

    internal ulong AllocateTag() => ++_nextTag;

    [IommuOp(IommuOpKind.ProbeDevice)]
    private IommuUnit ProbeDevice(IommuDevice device) =>
        _claims(device.Pci) ? Unit : throw new IoasidException(Errno.ENODEV, $"{device} is not behind {Unit}");

    [IommuOp(IommuOpKind.ReleaseDevice)]
    private void ReleaseDevice(IommuDevice device)
    {
        Hardware.ClearEntry(device.Rid);
        device.DriverData = null;
    }

    [IommuOp(IommuOpKind.DeviceGroup)]
    private IommuGroup DeviceGroup(IommuDevice device) => _core.Groups.PciDeviceGroup(device);

    [IommuOp(IommuOpKind.Capable)]
    private bool Capable(IommuDevice device, IommuCapability capability) =>
        capability is IommuCapability.CacheCoherency or IommuCapability.EnforceCacheCoherency
        || (capability == IommuCapability.DirtyTracking && !DevicesWithoutDirtyTracking.Contains(device.Rid));

    // iommu_test_hw_info: flags u32 @0, test_reg u32 @4 (the selftest's IOMMU_HW_INFO_SELFTEST_REGVAL).
    [IommuOp(IommuOpKind.HwInfo)]
    private byte[] HwInfo(IommuDevice device, ref uint type)
    {
        if (type != 0 && type != HwInfoType)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"the mock reports hardware info of type 0x{HwInfoType:x} only, not 0x{type:x}");
        }

        type = HwInfoType;
        var data = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), HwInfoTestRegister);
        return data;
    }

    [IommuOp(IommuOpKind.GetResvRegions)]
    private void GetResvRegions(IommuDevice device, List<ReservedRegion> regions) => regions.AddRange(ReservedRegions);

    [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
    private IommuDomain DomainAllocPagingFlags(IommuDevice device, uint flags, ReadOnlySpan<byte> userData)
    {
        const HwptAllocFlags supported = HwptAllocFlags.NestParent | HwptAllocFlags.DirtyTracking | HwptAllocFlags.Pasid;
        if (!userData.IsEmpty)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, "the mock paging domain takes no driver data");
        }

        if ((flags & ~(uint)supported) != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"the mock paging domain does not support flags 0x{flags & ~(uint)supported:x}");
        }

        return new MockPagingDomain(this, (HwptAllocFlags)flags);
    }
}

/// <summary>One mock IOMMU unit and its hardware model.</summary>
public sealed class MockUnit : IommuUnit
{
    internal MockUnit(string name, MockIommuHardware hardware)
        : base(name) => Hardware = hardware;

    /// <summary>The hardware that translates the unit's devices.</summary>
    public MockIommuHardware Hardware { get; }
}
