using System;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The driver's side of the command queue (Linux's <c>arm_smmu_cmdq</c>): commands are written into the queue in
/// memory at the driver's producer index; <see cref="Sync"/> appends a CMD_SYNC whose MSI write lands in a sync word
/// the driver then checks, and publishes the batch with one CMDQ_PROD write. A full queue is published early.
/// </summary>
public sealed class SmmuCommandQueue
{
    private readonly SmmuV3Hardware _hardware;
    private readonly PhysicalMemory _memory;
    private readonly PhysAddr _base;
    private readonly int _log2Size;
    private readonly uint _mask;
    private readonly PhysAddr _syncWord;
    private uint _prod;
    private uint _syncSequence;

    internal SmmuCommandQueue(SmmuV3Hardware hardware, int log2Size)
    {
        _hardware = hardware;
        _memory = hardware.Memory;
        _log2Size = log2Size;
        _mask = (2u << log2Size) - 1;
        ulong bytes = Math.Max(0x1000UL, (ulong)SmmuCommand.Size << log2Size);
        if (!_memory.Frames.TryAllocateContiguous(bytes >> 12, bytes, out _base))
        {
            throw new IoasidException(Errno.ENOMEM, "no memory for the command queue");
        }

        _syncWord = _memory.Frames.AllocateZeroed();
        hardware.WriteRegister64(SmmuRegisters.CmdqBase, SmmuRegisters.QueueBaseValue(_base, log2Size));
        hardware.WriteRegister32(SmmuRegisters.CmdqProd, 0);
        hardware.WriteRegister32(SmmuRegisters.CmdqCons, 0);
    }

    /// <summary>The queue's address.</summary>
    public PhysAddr Base => _base;

    /// <summary>Commands written since creation, CMD_SYNCs included.</summary>
    public long Issued { get; private set; }

    /// <summary>Batches published with <see cref="Sync"/>.</summary>
    public long SyncCount { get; private set; }

    /// <summary>Writes <paramref name="command"/> into the queue (published by the next <see cref="Sync"/>).</summary>
    public void Add(in SmmuCommand command)
    {
        uint entries = 1u << _log2Size;
        uint cons = _hardware.CommandQueue.Cons & _mask;
        if (((_prod ^ cons) & _mask) == entries)
        {
            Publish(); // full: let the SMMU consume what is there
        }

        ulong at = _base.Value + ((ulong)(_prod & (entries - 1)) * SmmuCommand.Size);
        Span<ulong> slot = _memory.TableEntries(new PhysAddr(at & ~0xFFFUL)).Slice((int)((at & 0xFFF) >> 3), 2);
        slot[0] = command.Qw0;
        slot[1] = command.Qw1;
        _prod = (_prod + 1) & _mask;
        Issued++;
    }

    /// <summary>Appends CMD_SYNC, publishes the batch and waits for the sync's completion write.</summary>
    /// <exception cref="InvalidOperationException">The SMMU stopped on a command error (CMDQ_CONS.ERR).</exception>
    public void Sync()
    {
        uint sequence = ++_syncSequence;
        Add(SmmuCommand.CmdSync(_syncWord, sequence));
        Publish();
        SyncCount++;
        if (_memory.ReadU32(_syncWord) != sequence)
        {
            uint cons = _hardware.ReadRegister32(SmmuRegisters.CmdqCons);
            throw new InvalidOperationException($"CMD_SYNC did not complete: CMDQ_CONS 0x{cons:x} (ERR {(cons >> SmmuRegisters.CmdqConsErrShift) & 0x7F})");
        }
    }

    private void Publish() => _hardware.WriteRegister32(SmmuRegisters.CmdqProd, _prod);
}
