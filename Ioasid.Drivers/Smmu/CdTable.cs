using System;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// A master's CD table (Linux's <c>arm_smmu_ctx_desc_cfg</c>; drivers.md §3.5): 2^S1CDMax CDs indexed by SSID,
/// linear when the SMMU has no two-level CD tables or the table fits 1024 CDs, otherwise two-level with 64 KiB leaf
/// tables (S1Fmt = 2) allocated on first use. It belongs to the device, never to a domain.
/// </summary>
public sealed class CdTable
{
    private const int LeafShift = 10; // 1024 CDs per 64 KiB leaf
    private readonly PhysicalMemory _memory;
    private readonly ulong _l1Bytes;

    internal CdTable(PhysicalMemory memory, int s1CdMax, bool twoLevelSupported)
    {
        _memory = memory;
        S1CdMax = s1CdMax;
        Format = twoLevelSupported && s1CdMax > LeafShift ? CdTableFormat.TwoLevel64K : CdTableFormat.Linear;
        ulong bytes = Format == CdTableFormat.Linear
            ? (ulong)ContextDescriptor.Size << s1CdMax
            : (ulong)TableDescriptors.Size << (s1CdMax - LeafShift);
        _l1Bytes = Math.Max(0x1000UL, bytes);
        Base = Allocate(_l1Bytes);
    }

    /// <summary>log2 of the number of CDs (STE.S1CDMax).</summary>
    public int S1CdMax { get; }

    /// <summary>The layout (STE.S1Fmt).</summary>
    public CdTableFormat Format { get; }

    /// <summary>The table (or L1 table) address (STE.S1ContextPtr).</summary>
    public PhysAddr Base { get; }

    /// <summary>Leaf tables allocated (two-level only).</summary>
    public int Leaves { get; private set; }

    /// <summary>Writes CD <paramref name="ssid"/>; returns whether a new leaf table (and L1 descriptor) was needed.</summary>
    public bool Write(uint ssid, in ContextDescriptor cd)
    {
        PhysAddr at = SlotFor(ssid, allocate: true, out bool newLeaf);
        _memory.WriteU64(at, cd.Qw0);
        _memory.WriteU64(new PhysAddr(at.Value + 8), cd.Qw1);
        _memory.WriteU64(new PhysAddr(at.Value + 16), cd.Qw2);
        _memory.WriteU64(new PhysAddr(at.Value + 24), cd.Qw3);
        for (ulong q = 32; q < ContextDescriptor.Size; q += 8)
        {
            _memory.WriteU64(new PhysAddr(at.Value + q), 0);
        }

        return newLeaf;
    }

    /// <summary>Reads CD <paramref name="ssid"/> back (a zero CD where no leaf exists).</summary>
    public ContextDescriptor Read(uint ssid)
    {
        PhysAddr at = SlotFor(ssid, allocate: false, out _);
        return at.Value == 0 ? default : new ContextDescriptor(
            _memory.ReadU64(at), _memory.ReadU64(new PhysAddr(at.Value + 8)), _memory.ReadU64(new PhysAddr(at.Value + 16)), _memory.ReadU64(new PhysAddr(at.Value + 24)));
    }

    internal void Free()
    {
        if (Format == CdTableFormat.TwoLevel64K)
        {
            for (ulong i = 0; i < _l1Bytes / TableDescriptors.Size; i++)
            {
                ulong l1 = _memory.ReadU64(new PhysAddr(Base.Value + (i * TableDescriptors.Size)));
                if (TableDescriptors.L1CdValid(l1))
                {
                    _memory.Frames.FreeContiguous(TableDescriptors.L1CdL2Ptr(l1), 16);
                }
            }
        }

        _memory.Frames.FreeContiguous(Base, _l1Bytes >> 12);
    }

    private PhysAddr SlotFor(uint ssid, bool allocate, out bool newLeaf)
    {
        newLeaf = false;
        if (ssid >= 1u << S1CdMax)
        {
            throw new ArgumentOutOfRangeException(nameof(ssid), ssid, $"the CD table holds 2^{S1CdMax} CDs");
        }

        if (Format == CdTableFormat.Linear)
        {
            return new PhysAddr(Base.Value + ((ulong)ssid * ContextDescriptor.Size));
        }

        var l1Address = new PhysAddr(Base.Value + ((ulong)(ssid >> LeafShift) * TableDescriptors.Size));
        ulong l1 = _memory.ReadU64(l1Address);
        if (!TableDescriptors.L1CdValid(l1))
        {
            if (!allocate)
            {
                return PhysAddr.Zero;
            }

            PhysAddr leaf = Allocate(ContextDescriptor.Size << LeafShift);
            l1 = TableDescriptors.EncodeL1Cd(leaf);
            _memory.WriteU64(l1Address, l1);
            Leaves++;
            newLeaf = true;
        }

        return new PhysAddr(TableDescriptors.L1CdL2Ptr(l1).Value + ((ulong)(ssid & ((1u << LeafShift) - 1)) * ContextDescriptor.Size));
    }

    private PhysAddr Allocate(ulong bytes) =>
        _memory.Frames.TryAllocateContiguous(bytes >> 12, bytes, out PhysAddr first)
            ? first
            : throw new IoasidException(Errno.ENOMEM, "no memory for a CD table");
}
