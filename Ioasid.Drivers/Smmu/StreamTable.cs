using System;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The driver's stream table (drivers.md §3.3): linear (2^SIDSIZE STEs) when the SMMU has no two-level support or
/// few StreamIDs, else two-level with SPLIT = 8 (256 STEs, one PCI bus, per L2 table) and L2 tables created when a
/// device on them is probed. Every STE starts as an abort STE, as Linux's initial STEs do.
/// </summary>
public sealed class StreamTable
{
    /// <summary>The SPLIT Linux uses: 8 StreamID bits per L2 table.</summary>
    public const int Split = 8;

    private readonly PhysicalMemory _memory;
    private readonly ulong _l1Bytes;

    internal StreamTable(SmmuV3Hardware hardware, IdRegisters features)
    {
        _memory = hardware.Memory;
        SidBits = features.SidBits;
        TwoLevel = features.TwoLevelStreamTable && SidBits > Split;
        _l1Bytes = TwoLevel
            ? Math.Max(0x1000UL, (ulong)TableDescriptors.Size << (SidBits - Split))
            : Math.Max(0x1000UL, (ulong)StreamTableEntry.Size << SidBits);
        Base = Allocate(_l1Bytes);
        if (!TwoLevel)
        {
            for (ulong sid = 0; sid < 1UL << SidBits; sid++)
            {
                WriteAt(new PhysAddr(Base.Value + (sid * StreamTableEntry.Size)), Abort());
            }
        }

        hardware.WriteRegister64(SmmuRegisters.StrtabBase, Base.Value);
        hardware.WriteRegister32(SmmuRegisters.StrtabBaseCfg, SmmuRegisters.StrtabBaseCfgValue(SidBits, TwoLevel ? Split : 0, TwoLevel));
    }

    /// <summary>StreamID bits the table covers.</summary>
    public int SidBits { get; }

    /// <summary>Whether the table has two levels.</summary>
    public bool TwoLevel { get; }

    /// <summary>The table (or L1 table) address.</summary>
    public PhysAddr Base { get; }

    /// <summary>L2 tables allocated.</summary>
    public int L2Tables { get; private set; }

    /// <summary>An abort STE (V = 1, Config = abort).</summary>
    public static StreamTableEntry Abort() => new() { Valid = true, Config = SteConfig.Abort };

    /// <summary>Makes sure the STE of <paramref name="sid"/> exists; returns whether an L2 table was created (the caller issues a non-leaf CFGI_STE).</summary>
    public bool EnsureEntry(uint sid)
    {
        if (!TwoLevel)
        {
            return false;
        }

        var l1Address = new PhysAddr(Base.Value + ((ulong)(sid >> Split) * TableDescriptors.Size));
        if (TableDescriptors.StdSpan(_memory.ReadU64(l1Address)) != 0)
        {
            return false;
        }

        ulong bytes = (ulong)StreamTableEntry.Size << Split;
        PhysAddr l2 = Allocate(bytes);
        for (ulong i = 0; i < 1UL << Split; i++)
        {
            WriteAt(new PhysAddr(l2.Value + (i * StreamTableEntry.Size)), Abort());
        }

        _memory.WriteU64(l1Address, TableDescriptors.EncodeStd(l2, Split + 1));
        L2Tables++;
        return true;
    }

    /// <summary>The address of the STE of <paramref name="sid"/> (its L2 table must exist).</summary>
    public PhysAddr EntryAddress(uint sid)
    {
        if (!TwoLevel)
        {
            return new PhysAddr(Base.Value + ((ulong)sid * StreamTableEntry.Size));
        }

        ulong std = _memory.ReadU64(new PhysAddr(Base.Value + ((ulong)(sid >> Split) * TableDescriptors.Size)));
        if (TableDescriptors.StdSpan(std) == 0)
        {
            throw new InvalidOperationException($"StreamID 0x{sid:x} has no L2 stream table");
        }

        return new PhysAddr(TableDescriptors.StdL2Ptr(std).Value + ((ulong)(sid & ((1u << Split) - 1)) * StreamTableEntry.Size));
    }

    /// <summary>Writes the STE of <paramref name="sid"/> to memory (the caller issues CFGI_STE + CMD_SYNC).</summary>
    public void Write(uint sid, in StreamTableEntry ste) => WriteAt(EntryAddress(sid), ste);

    /// <summary>Reads the STE of <paramref name="sid"/> from memory.</summary>
    public StreamTableEntry Read(uint sid)
    {
        PhysAddr at = EntryAddress(sid);
        return new StreamTableEntry(_memory.ReadU64(at), _memory.ReadU64(new PhysAddr(at.Value + 8)), _memory.ReadU64(new PhysAddr(at.Value + 16)), _memory.ReadU64(new PhysAddr(at.Value + 24)));
    }

    private void WriteAt(PhysAddr at, in StreamTableEntry ste)
    {
        // qw0 (with V) last, as a hitless writer would order the final step.
        _memory.WriteU64(new PhysAddr(at.Value + 8), ste.Qw1);
        _memory.WriteU64(new PhysAddr(at.Value + 16), ste.Qw2);
        _memory.WriteU64(new PhysAddr(at.Value + 24), ste.Qw3);
        for (ulong q = 32; q < StreamTableEntry.Size; q += 8)
        {
            _memory.WriteU64(new PhysAddr(at.Value + q), 0);
        }

        _memory.WriteU64(at, ste.Qw0);
    }

    private PhysAddr Allocate(ulong bytes) =>
        _memory.Frames.TryAllocateContiguous(bytes >> 12, bytes, out PhysAddr first)
            ? first
            : throw new IoasidException(Errno.ENOMEM, "no memory for the stream table");
}
