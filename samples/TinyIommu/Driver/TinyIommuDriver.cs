using Ioasid;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using TinyIommu.Format;
using TinyIommu.Hardware;

namespace TinyIommu.Driver;

/// <summary>
/// An out-of-tree IOMMU driver built only against the Ioasid package. The <c>[IommuDriver]</c> attribute and the
/// <c>[IommuOp]</c> members below are all it writes of its <c>iommu_ops</c>: the package's source generator turns
/// them into the <c>Ops</c> table that <see cref="IommuCore.RegisterDriver"/> takes, and rejects a missing required op
/// or a wrong signature at compile time.
/// </summary>
/// <remarks>
/// The driver owns the device table in physical memory and programs the hardware only through its register and
/// commands (<see cref="TinyIommuHardware.SetDeviceTableBase"/>, invalidations).
/// </remarks>
[IommuDriver("tiny-iommu")]
public sealed partial class TinyIommuDriver
{
    private readonly IommuCore _core;
    private readonly PhysAddr _deviceTable;
    private ushort _nextDomainId;

    /// <summary>Creates the driver and enables translation: allocates the device table and points the hardware at it.</summary>
    public TinyIommuDriver(IommuCore core, PhysicalMemory memory)
    {
        _core = core;
        Memory = memory;
        Hardware = new TinyIommuHardware(memory);
        Unit = new TinyUnit(Hardware);
        Blocked = new TinyBlockedDomain(this);

        const ulong tableFrames = (ulong)DeviceTableEntry.Count * DeviceTableEntry.Size / TinyPte.PageSize;
        if (!memory.Frames.TryAllocateContiguous(tableFrames, TinyPte.PageSize, out _deviceTable))
        {
            throw new IoasidException(Errno.ENOMEM, "no room for the device table");
        }

        for (ulong i = 0; i < tableFrames; i++)
        {
            memory.TableEntries(_deviceTable + (i * TinyPte.PageSize)).Clear();
        }

        Hardware.SetDeviceTableBase(_deviceTable);
    }

    /// <summary>The hardware this driver programs.</summary>
    public TinyIommuHardware Hardware { get; }

    /// <summary>The one unit every device sits behind.</summary>
    public TinyUnit Unit { get; }

    /// <summary>The memory holding the device table and the page tables.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary><c>blocked_domain</c>: what a detached device is left with.</summary>
    [IommuOp(IommuOpKind.BlockedDomain)]
    public TinyBlockedDomain Blocked { get; }

    /// <summary>Writes <paramref name="rid"/>'s device table entry and tells the hardware to re-read it.</summary>
    internal void WriteDeviceEntry(Rid rid, DeviceTableEntry entry)
    {
        PhysAddr at = DeviceTableEntry.AddressOf(_deviceTable, rid);
        Memory.WriteU64(at + sizeof(ulong), entry.Word1);
        Memory.WriteU64(at, entry.Word0); // word 0 holds V: written last so the entry becomes valid whole
        Hardware.InvalidateDeviceEntry(rid);
    }

    internal ushort AllocateDomainId() =>
        _nextDomainId < ushort.MaxValue ? ++_nextDomainId : throw new IoasidException(Errno.ENOSPC, "out of domain ids");

    [IommuOp(IommuOpKind.ProbeDevice)]
    private IommuUnit ProbeDevice(IommuDevice device) =>
        device.Rid.Segment == 0 ? Unit : throw new IoasidException(Errno.ENODEV, $"{device} is outside segment 0");

    [IommuOp(IommuOpKind.ReleaseDevice)]
    private void ReleaseDevice(IommuDevice device) => WriteDeviceEntry(device.Rid, DeviceTableEntry.Invalid);

    [IommuOp(IommuOpKind.DeviceGroup)]
    private IommuGroup DeviceGroup(IommuDevice device) => _core.Groups.PciDeviceGroup(device);

    // DMA through this IOMMU snoops CPU caches, which iommufd requires of every device it binds.
    [IommuOp(IommuOpKind.Capable)]
    private bool Capable(IommuDevice device, IommuCapability capability) => capability == IommuCapability.CacheCoherency;

    [IommuOp(IommuOpKind.DomainAllocPaging)]
    private IommuDomain DomainAllocPaging(IommuDevice device) => new TinyPagingDomain(this);
}

/// <summary>The tiny-iommu unit.</summary>
public sealed class TinyUnit : IommuUnit
{
    internal TinyUnit(TinyIommuHardware hardware)
        : base("tiny0") => Hardware = hardware;

    /// <summary>Its hardware.</summary>
    public TinyIommuHardware Hardware { get; }
}
