using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// The Intel VT-d driver model (the kernel's <c>intel_iommu_ops</c>): one driver for any number of units, each a
/// <see cref="VtdIommuHardware"/> it programs only through registers, tables in memory and queued invalidation.
/// Probe gives every device its own context entry and, in scalable mode, its own PASID table; paging domains use
/// second-stage tables (first stage when <see cref="FirstStageByDefault"/>), nest parents carry nested domains built
/// from the user's VTD_S1 data, and the static blocked and identity domains block or pass through. Second-stage
/// domains track dirty pages (IOMMU_HWPT_ALLOC_DIRTY_TRACKING) on scalable-mode units with ECAP.SSADS. A device with
/// the ATS capability on a unit with ECAP.DT gets ATS (scalable-mode DTE set at probe; legacy TT = 01b for translated
/// domains), and every IOTLB invalidation reaching it is followed by a device-TLB invalidation before the wait.
/// </summary>
[IommuDriver(DriverNames.IntelVtd)]
public sealed partial class VtdIommuDriver
{
    /// <summary>IOMMU_HW_INFO_TYPE_INTEL_VTD.</summary>
    public const uint HwInfoType = 1;

    /// <summary>IOMMU_HWPT_ALLOC_NEST_PARENT.</summary>
    public const uint AllocNestParent = 1;

    /// <summary>IOMMU_HWPT_ALLOC_DIRTY_TRACKING.</summary>
    public const uint AllocDirtyTracking = 2;

    /// <summary>IOMMU_HWPT_ALLOC_PASID.</summary>
    public const uint AllocPasid = 8;

    private readonly IommuCore _core;
    private readonly List<(VtdUnit Unit, Func<PciDevice, bool> Claims)> _units = new();

    /// <summary>Creates the driver over <paramref name="memory"/>; add units with <see cref="AddUnit"/>, then register <c>Ops</c> with the core.</summary>
    public VtdIommuDriver(IommuCore core, PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(memory);
        _core = core;
        Memory = memory;
        Blocked = new VtdBlockedDomain();
        Identity = new VtdIdentityDomain();
        FaultLog = new FaultLog<VtdFaultRecord>(256);
    }

    /// <summary>The memory the driver's tables live in.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>Allocate first-stage paging domains when no flag asks for a second stage (the kernel's choice on first-stage-capable units). Off by default.</summary>
    public bool FirstStageByDefault { get; set; }

    /// <summary>The units, in the order added.</summary>
    public IReadOnlyList<VtdUnit> Units => _units.ConvertAll(u => u.Unit);

    /// <summary>Faults taken from the units' fault-recording registers by <see cref="ServiceFaults"/> (the kernel's <c>dmar_fault</c> log).</summary>
    public FaultLog<VtdFaultRecord> FaultLog { get; }

    /// <summary>The static blocking domain.</summary>
    [IommuOp(IommuOpKind.BlockedDomain)]
    public VtdBlockedDomain Blocked { get; }

    /// <summary>The static identity domain.</summary>
    [IommuOp(IommuOpKind.IdentityDomain)]
    public VtdIdentityDomain Identity { get; }

    /// <summary>
    /// Brings up a unit: creates its hardware with <paramref name="capabilities"/>, programs its root table and
    /// queue and enables translation. <paramref name="claims"/> picks the PCI functions behind it (all by default);
    /// <paramref name="iotlbCapacity"/> sizes its IOTLB.
    /// </summary>
    public VtdUnit AddUnit(string name, VtdCapabilities? capabilities = null, Func<PciDevice, bool>? claims = null, int iotlbCapacity = VtdIommuHardware.DefaultIotlbCapacity)
    {
        var hardware = new VtdIommuHardware(Memory, capabilities, name, iotlbCapacity);
        var unit = new VtdUnit(name, hardware, Memory);
        _units.Add((unit, claims ?? (_ => true)));
        return unit;
    }

    /// <summary>The driver data of a probed device.</summary>
    public static VtdDeviceData DataOf(IommuDevice device) =>
        device.DriverData as VtdDeviceData ?? throw new ArgumentException($"{device} is not a VT-d device", nameof(device));

    /// <summary>
    /// The fault interrupt handler: reads every pending fault-recording register of every unit from FRI on, logs it
    /// in <see cref="FaultLog"/>, clears F, then clears PFO.
    /// </summary>
    /// <returns>The records taken.</returns>
    public int ServiceFaults()
    {
        int taken = 0;
        foreach (var (unit, _) in _units)
        {
            VtdIommuHardware hw = unit.Hardware;
            int records = VtdCapRegister.Field(unit.Cap, VtdCapRegister.NumberOfFaultRecordsShift, 8) + 1;
            int first = (int)((hw.ReadRegister32(VtdRegisters.FaultStatus) >> VtdRegisters.FaultRecordIndexShift) & 0xFF);
            for (int n = 0; n < records; n++)
            {
                int i = (first + n) % records;
                int offset = (VtdCapRegister.Field(unit.Cap, VtdCapRegister.FaultRecordingOffsetShift, 10) * 16) + (16 * i);
                ulong high = hw.ReadRegister64(offset + 8);
                if ((high & VtdFaultRecord.FaultBit) == 0)
                {
                    continue;
                }

                FaultLog.TryRecord(VtdFaultRecord.Decode(hw.ReadRegister64(offset), high));
                hw.WriteRegister64(offset + 8, VtdFaultRecord.FaultBit);
                taken++;
            }

            hw.WriteRegister32(VtdRegisters.FaultStatus, VtdRegisters.PrimaryFaultOverflow);
        }

        return taken;
    }

    [IommuOp(IommuOpKind.ProbeDevice)]
    private IommuUnit ProbeDevice(IommuDevice device)
    {
        foreach (var (unit, claims) in _units)
        {
            if (!claims(device.Pci))
            {
                continue;
            }

            var data = new VtdDeviceData(unit, device, Memory);
            device.DriverData = data;
            if (unit.ScalableMode)
            {
                // The scalable-mode context entry is set up at probe and points at the device's own PASID directory.
                // DTE when the device has ATS and the unit device TLBs (intel_pasid_setup_sm_context); ATS is enabled on
                // the device at once, so every later IOTLB invalidation is followed by a device-TLB one.
                var context = ScalableContextEntry.Create(data.PasidDirectory, data.DirectoryEntries, pasidEnable: device.MaxPasids > 0, VtdDeviceData.RidPasid, deviceTlb: data.AtsSupported);
                PhysAddr address = unit.ContextEntryAddress(device.Rid);
                Memory.WriteU64(new PhysAddr(address.Value + 8), context.Q1);
                Memory.WriteU64(address, context.Q0);
                if (unit.CachingMode)
                {
                    unit.Submit(InvalidationDescriptor.ContextDevice(0, device.Rid.Bdf));
                    unit.Flush();
                }

                data.EnableAts();
            }

            return unit;
        }

        throw new IoasidException(Errno.ENODEV, $"{device} is behind no VT-d unit");
    }

    [IommuOp(IommuOpKind.ReleaseDevice)]
    private void ReleaseDevice(IommuDevice device)
    {
        if (device.DriverData is not VtdDeviceData data)
        {
            return;
        }

        foreach (uint pasid in new List<uint>(data.Domains.Keys))
        {
            VtdAttach.Block(Blocked, device, pasid);
        }

        VtdUnit unit = data.Unit;
        PhysAddr address = unit.ContextEntryAddress(device.Rid);
        Memory.WriteU64(address, 0);
        Memory.WriteU64(new PhysAddr(address.Value + 8), 0);
        unit.Submit(InvalidationDescriptor.ContextDevice(0, device.Rid.Bdf));
        if (unit.ScalableMode)
        {
            unit.Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCacheGlobalGranularity, 0, 0));
        }

        unit.Flush();
        data.DisableAts();
        data.Free();
        device.DriverData = null;
    }

    [IommuOp(IommuOpKind.DeviceGroup)]
    private IommuGroup DeviceGroup(IommuDevice device) => _core.Groups.PciDeviceGroup(device);

    [IommuOp(IommuOpKind.Capable)]
    private bool Capable(IommuDevice device, IommuCapability capability) =>
        capability is IommuCapability.CacheCoherency or IommuCapability.EnforceCacheCoherency
        || (capability == IommuCapability.DirtyTracking && VtdPagingDomain.SupportsDirtyTracking(DataOf(device).Unit));

    [IommuOp(IommuOpKind.HwInfo)]
    private byte[] HwInfo(IommuDevice device, ref uint type)
    {
        if (type != 0 && type != HwInfoType)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"intel-vtd has no hw_info type {type}");
        }

        type = HwInfoType;
        VtdUnit unit = DataOf(device).Unit;
        return new VtdHwInfo(0, unit.Hardware.ReadRegister64(VtdRegisters.Capability), unit.Hardware.ReadRegister64(VtdRegisters.ExtendedCapability)).ToBytes();
    }

    [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
    private IommuDomain DomainAllocPagingFlags(IommuDevice device, uint flags, ReadOnlySpan<byte> userData)
    {
        VtdUnit unit = DataOf(device).Unit;
        if ((flags & ~(AllocNestParent | AllocDirtyTracking | AllocPasid)) != 0 || !userData.IsEmpty)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"intel-vtd: unsupported paging flags 0x{flags:x} or user data");
        }

        // Dirty tracking is a second-stage feature of scalable mode with ECAP.SSADS (the kernel: EOPNOTSUPP otherwise).
        bool dirtyTracking = (flags & AllocDirtyTracking) != 0;
        if (dirtyTracking && !VtdPagingDomain.SupportsDirtyTracking(unit))
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"{unit} has no second-stage dirty tracking (scalable mode and ECAP.SSADS)");
        }

        bool nestParent = (flags & AllocNestParent) != 0;
        if (nestParent && !(unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.NestedBit)))
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"{unit} cannot nest");
        }

        bool firstStage = FirstStageByDefault && !nestParent && !dirtyTracking && unit.ScalableMode && unit.Supports(unit.Ecap, VtdEcapRegister.FirstStageBit);
        return new VtdPagingDomain(this, unit, firstStage ? VtdPagingStage.FirstStage : VtdPagingStage.SecondStage, nestParent, dirtyTracking);
    }

    [IommuOp(IommuOpKind.DomainAllocNested)]
    private IommuDomain DomainAllocNested(IommuDevice device, IommuDomain parent, uint flags, uint dataType, ReadOnlySpan<byte> userData)
    {
        VtdUnit unit = DataOf(device).Unit;
        if (dataType != VtdS1Data.DataType || (flags & ~AllocPasid) != 0 || !unit.Supports(unit.Ecap, VtdEcapRegister.NestedBit))
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"intel-vtd: nested data type {dataType} / flags 0x{flags:x} not supported");
        }

        if (parent is not VtdPagingDomain { NestParent: true, Stage: VtdPagingStage.SecondStage } paging)
        {
            throw new IoasidException(Errno.EINVAL, "intel-vtd: the parent is not a second-stage nest parent");
        }

        Errno errno = VtdS1Data.TryParse(userData, out VtdS1Data s1);
        if (errno != Errno.None)
        {
            throw new IoasidException(errno, "intel-vtd: bad iommu_hwpt_vtd_s1");
        }

        if (s1.AddressWidth == 57 && !unit.Supports(unit.Cap, VtdCapRegister.FirstStage5LevelBit))
        {
            throw new IoasidException(Errno.EINVAL, $"{unit} has no 5-level first stage");
        }

        var nested = new VtdNestedDomain(paging, s1);
        paging.AddChild(nested);
        return nested;
    }
}
