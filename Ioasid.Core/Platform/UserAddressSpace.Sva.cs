using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Ioasid.Core.Platform;

// The address space's CPU page table and its MMU notifiers: built only for processes whose mm is shared with a
// device (SVA), so every other process pays one null check on the paths that change pages.
public sealed partial class UserAddressSpace
{
    // Address spaces with a CPU page table, per memory: a truncated memfd must update the tables mapping it.
    private static readonly ConditionalWeakTable<PhysicalMemory, List<UserAddressSpace>> s_withTables = new();

    private CpuPageTable? _cpuTable;
    private List<IMmuNotifier>? _notifiers;

    /// <summary>The CPU page table, or null while nothing has asked for one (<see cref="EnsureCpuPageTable"/>) and after exit.</summary>
    public CpuPageTable? CpuPageTable
    {
        get
        {
            lock (_memory.Sync)
            {
                return _cpuTable;
            }
        }
    }

    /// <summary>
    /// Builds the CPU page table if there is none (populated from the current pages) and returns it; from then on it is
    /// kept exact until the process exits.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.ENOMEM"/>: no frame for the root table.</exception>
    public CpuPageTable EnsureCpuPageTable()
    {
        lock (_memory.Sync)
        {
            RequireLive();
            if (_cpuTable is not null)
            {
                return _cpuTable;
            }

            var table = new CpuPageTable(this, _memory, _frames.AllocateZeroed());
            _cpuTable = table;
            foreach (Vma vma in _vmas)
            {
                table.SyncLocked(vma.Start, vma.End);
            }

            s_withTables.GetOrCreateValue(_memory).Add(this);
            return table;
        }
    }

    /// <summary>
    /// Frees a CPU page table that <see cref="EnsureCpuPageTable"/> built but nobody used (no notifier registered): how a
    /// failed SVA bind leaves a process as it found it. Does nothing when notifiers are registered.
    /// </summary>
    public void DropUnusedCpuPageTable()
    {
        lock (_memory.Sync)
        {
            if (_cpuTable is null || _notifiers is { Count: > 0 })
            {
                return;
            }

            DestroyCpuPageTableLocked();
        }
    }

    /// <summary>
    /// <c>mmu_notifier_register</c>: <paramref name="notifier"/> is told of every invalidation of the CPU page table
    /// (built if needed) and of the address space's release.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process has exited, or the notifier is already registered.</exception>
    public void RegisterMmuNotifier(IMmuNotifier notifier)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        lock (_memory.Sync)
        {
            EnsureCpuPageTable();
            _notifiers ??= new List<IMmuNotifier>();
            if (_notifiers.Contains(notifier))
            {
                throw new InvalidOperationException("The MMU notifier is already registered.");
            }

            _notifiers.Add(notifier);
        }
    }

    /// <summary><c>mmu_notifier_unregister</c>: no further calls; false when it was not registered (e.g. after release).</summary>
    public bool UnregisterMmuNotifier(IMmuNotifier notifier)
    {
        lock (_memory.Sync)
        {
            return _notifiers?.Remove(notifier) ?? false;
        }
    }

    /// <summary>The notifiers registered now.</summary>
    public int MmuNotifierCount
    {
        get
        {
            lock (_memory.Sync)
            {
                return _notifiers?.Count ?? 0;
            }
        }
    }

    /// <summary>Called by <see cref="MemFd.Truncate"/> after it freed pages: every CPU page table mapping the file drops them.</summary>
    internal static void FileShrunkLocked(PhysicalMemory memory, MemFd file)
    {
        if (!s_withTables.TryGetValue(memory, out List<UserAddressSpace>? spaces))
        {
            return;
        }

        foreach (UserAddressSpace mm in spaces)
        {
            foreach (Vma vma in mm._vmas)
            {
                if (vma.File == file)
                {
                    mm._cpuTable?.SyncLocked(vma.Start, vma.End);
                }
            }
        }
    }

    /// <summary>exit_mmap's first step: every notifier is released (and forgotten) before the pages go.</summary>
    private void ReleaseMmuNotifiersLocked()
    {
        if (_notifiers is not { } notifiers)
        {
            return;
        }

        _notifiers = null;
        foreach (IMmuNotifier notifier in notifiers)
        {
            notifier.Release(this);
        }
    }

    private void DestroyCpuPageTableLocked()
    {
        if (_cpuTable is null)
        {
            return;
        }

        _cpuTable.DestroyLocked();
        _cpuTable = null;
        if (s_withTables.TryGetValue(_memory, out List<UserAddressSpace>? spaces))
        {
            spaces.Remove(this);
        }
    }

    internal void NotifyInvalidateLocked(ulong start, ulong end)
    {
        if (_notifiers is not { } notifiers)
        {
            return;
        }

        for (int i = 0; i < notifiers.Count; i++)
        {
            notifiers[i].InvalidateRange(this, start, end);
        }
    }

    /// <summary>Whether a mapping overlaps [start, end).</summary>
    internal bool AnyMappingLocked(ulong start, ulong end)
    {
        int i = LowerBound(start);
        return (i < _vmas.Count && _vmas[i].Start < end) || (i > 0 && _vmas[i - 1].End > start);
    }

    /// <summary>
    /// The 512 leaf entries the 2 MiB region at <paramref name="region"/> should have; <paramref name="hugeLeaf"/> is
    /// the single PS entry that replaces them when one huge mapping backs the whole region with one aligned run.
    /// </summary>
    /// <returns>Whether any entry is present.</returns>
    internal bool WantedEntriesLocked(ulong region, Span<ulong> wanted, out ulong hugeLeaf)
    {
        wanted.Clear();
        hugeLeaf = 0;
        ulong regionEnd = region + CpuPageTable.RegionSize;
        bool any = false;
        int i = LowerBound(region + 1) - 1;
        if (i < 0 || _vmas[i].End <= region)
        {
            i++;
        }

        for (int first = i; i < _vmas.Count && _vmas[i].Start < regionEnd; i++)
        {
            Vma vma = _vmas[i];
            if (vma.Prot == UserProt.None)
            {
                continue; // PROT_NONE: not present for the hardware
            }

            ulong from = Math.Max(vma.Start, region);
            ulong to = Math.Min(vma.End, regionEnd);
            if (vma.File is null && vma.Anon!.ChunkIsEmpty(vma.AnonIndex(from)) && vma.Anon.ChunkIsEmpty(vma.AnonIndex(to - 1)))
            {
                continue; // anonymous and never touched (the piece spans at most two chunks): nothing present
            }

            for (ulong va = from; va < to; va += AddressMath.PageSize)
            {
                ulong entry = CpuEntryFor(vma, va);
                wanted[(int)((va - region) >> AddressMath.PageShift)] = entry;
                any |= entry != 0;
            }

            if (i == first && vma.Huge && vma.Start <= region && vma.End >= regionEnd && any)
            {
                hugeLeaf = HugeLeafOf(wanted);
            }
        }

        return any;
    }

    // A PS leaf when the 512 entries are one 2 MiB-aligned contiguous run with equal flags, else 0.
    private static ulong HugeLeafOf(ReadOnlySpan<ulong> wanted)
    {
        ulong first = wanted[0];
        if (!CpuPte.IsPresent(first) || (first & CpuPte.AddressMask & (CpuPageTable.RegionSize - 1)) != 0)
        {
            return 0;
        }

        for (int k = 1; k < wanted.Length; k++)
        {
            if (wanted[k] != first + ((ulong)k << AddressMath.PageShift))
            {
                return 0;
            }
        }

        return first | CpuPte.PageSize;
    }

    // The leaf for one page of a mapping: the frame a CPU access finds, writable unless it is a private file page not
    // yet copied; 0 when there is none.
    private static ulong CpuEntryFor(Vma vma, ulong va)
    {
        bool writable = (vma.Prot & UserProt.Write) != 0;
        if (vma.File is { } file && vma.FileIndex(va) >= file.PageCountLocked)
        {
            return 0;
        }

        ulong pfn = 0;
        if (vma.Anon is { } anon)
        {
            pfn = anon.Get(vma.AnonIndex(va));
        }

        if (pfn == 0 && vma.File is { } mapped)
        {
            pfn = mapped.FrameAtLocked(vma.FileIndex(va));
            writable &= vma.Anon is null; // a private file page is read-only until copied
        }

        return pfn == 0 ? 0 : CpuPte.Leaf(PhysAddr.FromFrame(pfn), writable, (vma.Prot & UserProt.Exec) != 0);
    }
}
