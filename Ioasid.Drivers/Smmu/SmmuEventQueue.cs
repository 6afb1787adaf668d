using System;
using System.Collections.Generic;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The driver's side of the event queue (Linux's <c>arm_smmu_evtq_thread</c>): the queue lives in memory, the SMMU
/// produces, <see cref="Drain"/> decodes every record between CONS and PROD and advances EVTQ_CONS (acknowledging an
/// overflow).
/// </summary>
public sealed class SmmuEventQueue
{
    private readonly SmmuV3Hardware _hardware;
    private readonly PhysicalMemory _memory;
    private readonly StreamIdMap _streamIds;
    private readonly PhysAddr _base;
    private readonly int _log2Size;

    internal SmmuEventQueue(SmmuV3Hardware hardware, StreamIdMap streamIds, int log2Size)
    {
        _hardware = hardware;
        _memory = hardware.Memory;
        _streamIds = streamIds;
        _log2Size = log2Size;
        ulong bytes = Math.Max(0x1000UL, (ulong)SmmuEvent.Size << log2Size);
        if (!_memory.Frames.TryAllocateContiguous(bytes >> 12, bytes, out _base))
        {
            throw new IoasidException(Errno.ENOMEM, "no memory for the event queue");
        }

        hardware.WriteRegister64(SmmuRegisters.EvtqBase, SmmuRegisters.QueueBaseValue(_base, log2Size));
    }

    /// <summary>The queue's address.</summary>
    public PhysAddr Base => _base;

    /// <summary>Entries in the queue.</summary>
    public int Capacity => 1 << _log2Size;

    /// <summary>Overflows acknowledged by <see cref="Drain"/>.</summary>
    public int OverflowsSeen { get; private set; }

    /// <summary>Takes every pending record, oldest first, decoded; the RID comes from the StreamID through the map.</summary>
    public IReadOnlyList<SmmuEvent> Drain()
    {
        var events = new List<SmmuEvent>();
        uint mask = (2u << _log2Size) - 1;
        uint prod = _hardware.ReadRegister32(SmmuRegisters.EvtqProd);
        uint cons = _hardware.ReadRegister32(SmmuRegisters.EvtqCons);
        Span<ulong> q = stackalloc ulong[4];
        while (((prod ^ cons) & mask) != 0)
        {
            ulong at = _base.Value + ((ulong)(cons & ((1u << _log2Size) - 1)) * SmmuEvent.Size);
            for (int i = 0; i < 4; i++)
            {
                q[i] = _memory.ReadU64(new PhysAddr(at + ((ulong)i * 8)));
            }

            events.Add(Decode(q));
            cons = (cons & ~mask) | ((cons + 1) & mask);
        }

        if (((prod ^ cons) & SmmuRegisters.QueueOverflowFlag) != 0)
        {
            OverflowsSeen++;
            cons ^= SmmuRegisters.QueueOverflowFlag;
        }

        _hardware.WriteRegister32(SmmuRegisters.EvtqCons, cons);
        return events;
    }

    /// <summary>Decodes one raw record.</summary>
    public SmmuEvent Decode(ReadOnlySpan<ulong> qwords)
    {
        SmmuEventType type = SmmuEvent.TypeOf(qwords);
        uint sid = (uint)(qwords[0] >> 32);
        Pasid? pasid = BitField.Bit(qwords[0], 11) ? new Pasid((uint)BitField.Get(qwords[0], 12, 20)) : null;
        bool read = BitField.Bit(qwords[1], 35);
        bool stage2 = BitField.Bit(qwords[1], 39);
        var eventClass = (SmmuEventClass)BitField.Get(qwords[1], 40, 2);
        _streamIds.TryReverse(sid, out Rid rid);
        return new SmmuEvent(rid, pasid, new Iova(qwords[2]), read ? DmaAccess.Read : DmaAccess.Write, SmmuV3Hardware.ReasonFor(type), type, sid, stage2, eventClass, qwords[3]);
    }
}
