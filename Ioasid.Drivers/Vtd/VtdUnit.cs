using System;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// One VT-d unit (DRHD) as the driver keeps it (the kernel's <c>struct intel_iommu</c>): the hardware model it
/// programs, the root table and context tables it owns in memory, its invalidation queue and its domain-id
/// allocator. Everything reaches the hardware through registers and queued descriptors.
/// </summary>
public sealed class VtdUnit : IommuUnit
{
    private const int QueueBytes = 4096; // IQA.QS = 0

    private readonly PhysicalMemory _memory;
    private readonly PhysAddr _queue;
    private readonly PhysAddr _status;
    private readonly int _descriptorBytes;
    private readonly PhysAddr[] _contextTables = new PhysAddr[512]; // [bus * 2 + upper]
    private ulong _tail;
    private uint _sequence;

    internal VtdUnit(string name, VtdIommuHardware hardware, PhysicalMemory memory)
        : base(name)
    {
        Hardware = hardware;
        _memory = memory;
        ulong cap = hardware.ReadRegister64(VtdRegisters.Capability);
        ulong ecap = hardware.ReadRegister64(VtdRegisters.ExtendedCapability);
        Cap = cap;
        Ecap = ecap;
        ScalableMode = VtdCapRegister.Bit(ecap, VtdEcapRegister.ScalableModeBit);
        CachingMode = VtdCapRegister.Bit(cap, VtdCapRegister.CachingModeBit);
        DomainIds = new DomainIdAllocator(1 << (4 + (2 * VtdCapRegister.Field(cap, VtdCapRegister.NumberOfDomainsShift, 3))));
        int sagaw = VtdCapRegister.Field(cap, VtdCapRegister.SagawShift, 5);
        for (int levels = 5; levels >= 3; levels--)
        {
            if ((sagaw & VtdCapRegister.SagawBitFor(levels)) != 0)
            {
                Levels = levels;
                break;
            }
        }

        MaxGuestAddressWidth = VtdCapRegister.Field(cap, VtdCapRegister.MgawShift, 6) + 1;
        RootTable = memory.Frames.AllocateZeroed();
        _queue = memory.Frames.AllocateZeroed();
        _status = memory.Frames.AllocateZeroed();
        _descriptorBytes = ScalableMode ? 32 : 16;

        // Bring-up as the kernel does it: root pointer, queued invalidation, then translation.
        hardware.WriteRegister64(VtdRegisters.RootTableAddress, RootTable.Value | (ScalableMode ? VtdRegisters.ScalableModeTables : 0));
        hardware.WriteRegister32(VtdRegisters.GlobalCommand, VtdRegisters.SetRootTablePointer);
        hardware.WriteRegister64(VtdRegisters.QueueAddress, _queue.Value | (ScalableMode ? VtdRegisters.DescriptorWidth256 : 0));
        hardware.WriteRegister32(VtdRegisters.GlobalCommand, VtdRegisters.QueuedInvalidationEnable);
        Submit(InvalidationDescriptor.ContextGlobal());
        if (ScalableMode)
        {
            Submit(InvalidationDescriptor.PasidCache(InvalidationDescriptor.PasidCacheGlobalGranularity, 0, 0));
        }

        Submit(InvalidationDescriptor.IotlbGlobal());
        Flush();
        hardware.WriteRegister32(VtdRegisters.GlobalCommand, VtdRegisters.QueuedInvalidationEnable | VtdRegisters.TranslationEnable);
    }

    /// <summary>The hardware model.</summary>
    public VtdIommuHardware Hardware { get; }

    /// <summary>CAP as read at bring-up.</summary>
    public ulong Cap { get; }

    /// <summary>ECAP as read at bring-up.</summary>
    public ulong Ecap { get; }

    /// <summary>Whether the unit runs in scalable mode (ECAP.SMTS).</summary>
    public bool ScalableMode { get; }

    /// <summary>CAP.CM.</summary>
    public bool CachingMode { get; }

    /// <summary>The deepest second-stage table the unit supports (its AGAW), 3–5.</summary>
    public int Levels { get; }

    /// <summary>CAP.MGAW + 1.</summary>
    public int MaxGuestAddressWidth { get; }

    /// <summary>The root table page.</summary>
    public PhysAddr RootTable { get; }

    /// <summary>The unit's domain ids.</summary>
    public DomainIdAllocator DomainIds { get; }

    /// <summary>Descriptors written into the queue.</summary>
    public long DescriptorsSubmitted { get; private set; }

    /// <summary>Whether a CAP/ECAP bit is set.</summary>
    public bool Supports(ulong register, int bit) => VtdCapRegister.Bit(register, bit);

    /// <summary>Whether second-stage tables of <paramref name="levels"/> levels are supported (SAGAW).</summary>
    public bool SupportsLevels(int levels) => levels is >= 3 and <= 5 && (VtdCapRegister.Field(Cap, VtdCapRegister.SagawShift, 5) & VtdCapRegister.SagawBitFor(levels)) != 0;

    /// <summary>The context table page for <paramref name="rid"/>, allocating it (and linking it from the root entry) when <paramref name="allocate"/>.</summary>
    internal PhysAddr ContextTable(Rid rid, bool allocate)
    {
        bool upper = ScalableMode && rid.DevFn >= 0x80;
        int slot = (rid.Bus * 2) + (upper ? 1 : 0);
        if (_contextTables[slot].Value == 0 && allocate)
        {
            _contextTables[slot] = _memory.Frames.AllocateZeroed();
            PhysAddr lower = _contextTables[rid.Bus * 2];
            PhysAddr upperTable = _contextTables[(rid.Bus * 2) + 1];
            RootEntry root = ScalableMode ? RootEntry.Scalable(lower, upperTable) : RootEntry.Legacy(lower);
            ulong address = RootTable.Value + ((ulong)rid.Bus * RootEntry.Size);
            _memory.WriteU64(new PhysAddr(address + 8), root.High);
            _memory.WriteU64(new PhysAddr(address), root.Low);
        }

        return _contextTables[slot];
    }

    /// <summary>The address of <paramref name="rid"/>'s context entry (its table allocated).</summary>
    internal PhysAddr ContextEntryAddress(Rid rid)
    {
        PhysAddr table = ContextTable(rid, allocate: true);
        return ScalableMode
            ? new PhysAddr(table.Value + ((ulong)(rid.DevFn & 0x7F) * ScalableContextEntry.Size))
            : new PhysAddr(table.Value + ((ulong)rid.DevFn * ContextEntry.Size));
    }

    /// <summary>Writes one descriptor at the queue tail without telling the hardware yet; flushes first when the queue is full.</summary>
    public void Submit(in InvalidationDescriptor descriptor)
    {
        if ((_tail + (ulong)(2 * _descriptorBytes)) % QueueBytes == Head())
        {
            Flush(); // keep one slot for the wait descriptor
        }

        ulong address = _queue.Value + _tail;
        _memory.WriteU64(new PhysAddr(address), descriptor.Q0);
        _memory.WriteU64(new PhysAddr(address + 8), descriptor.Q1);
        if (_descriptorBytes == 32)
        {
            _memory.WriteU64(new PhysAddr(address + 16), descriptor.Q2);
            _memory.WriteU64(new PhysAddr(address + 24), descriptor.Q3);
        }

        _tail = (_tail + (ulong)_descriptorBytes) % QueueBytes;
        DescriptorsSubmitted++;
    }

    /// <summary>
    /// Appends a wait descriptor with a status write, moves IQT and waits for the status (<c>qi_submit_sync</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The hardware reported an invalidation queue error (a driver bug).</exception>
    public void Flush()
    {
        uint token = ++_sequence;
        Submit(InvalidationDescriptor.Wait(token, _status));
        Hardware.WriteRegister64(VtdRegisters.QueueTail, _tail);
        if ((Hardware.ReadRegister32(VtdRegisters.FaultStatus) & VtdRegisters.InvalidationQueueError) != 0)
        {
            throw new InvalidOperationException($"{Name}: invalidation queue error at head 0x{Head():x}");
        }

        if (_memory.ReadU32(_status) != token)
        {
            throw new InvalidOperationException($"{Name}: the invalidation wait did not complete");
        }
    }

    private ulong Head() => Hardware.ReadRegister64(VtdRegisters.QueueHead);
}
