using System;
using System.Collections.Generic;

namespace Ioasid.Core.Platform;

/// <summary>
/// The CPU page table of one process (its <c>mm-&gt;pgd</c>): the x86-64 4-level format (<see cref="CpuPte"/>) in
/// simulated physical memory, mapping every page of the address space that has a frame. The platform builds it only
/// when something needs the hardware format — an IOMMU SVA bind (<see cref="UserAddressSpace.EnsureCpuPageTable"/>) —
/// and from then on keeps it exact on every change of the address space's pages: a write or pin that faults pages
/// in, munmap, mprotect, MAP_FIXED replacement, file truncation and exit. Processes never bound have none and pay
/// nothing for it.
/// </summary>
/// <remarks>
/// <para>
/// An entry is present exactly when a CPU access would find a frame without faulting one in: anonymous or private
/// copies assigned, file pages inside the file with a frame. A file page that gets its frame outside this process
/// (a write to the memfd, another process's mapping) shows up at this process's next change of that range, like a page
/// it has not faulted in yet: a device access there faults rather than reading a stale frame. Writable mappings give R/W | D leaves, except a private
/// file page not yet copied (read-only, so a write would copy it first). A 2 MiB piece of a huge mapping backed by one
/// aligned contiguous run is one PS leaf in the PD, as a transparent huge page is; any change inside it splits it.
/// Pages that become present need no invalidation (a not-present entry is never cached); a present entry that changes
/// or goes is reported to every <see cref="IMmuNotifier"/> before a table page it used is freed.
/// </para>
/// <para>
/// Table pages are allocated when the first entry below them becomes present and freed when their last one goes. If
/// frames run out while populating, the entry is left not present (a device access faults, as with a page the CPU has
/// not touched); nothing stale is ever left.
/// </para>
/// </remarks>
public sealed class CpuPageTable
{
    /// <summary>Bytes one PD entry maps (2 MiB).</summary>
    public const ulong RegionSize = 1UL << 21;

    /// <summary>One past the highest address the 4-level table translates (the 47-bit lower canonical half).</summary>
    public const ulong InputLimit = 1UL << 47;

    private const ulong PdptSpan = 1UL << 30;
    private const ulong Pml4Span = 1UL << 39;
    private const int EntriesPerTable = 512;

    private readonly UserAddressSpace _mm;
    private readonly PhysicalMemory _memory;
    private readonly List<PhysAddr> _freeAfterFlush = new();
    private ulong _invalidStart = ulong.MaxValue;
    private ulong _invalidEnd;

    internal CpuPageTable(UserAddressSpace mm, PhysicalMemory memory, PhysAddr root)
    {
        _mm = mm;
        _memory = memory;
        Root = root;
        TablePages = 1;
    }

    /// <summary>The address space the table belongs to.</summary>
    public UserAddressSpace Mm => _mm;

    /// <summary>The PML4 page (what CR3, and an SVA PASID entry's first-stage pointer, point at); zero once freed.</summary>
    public PhysAddr Root { get; private set; }

    /// <summary>Table pages in use, the root included; 0 once the address space exited.</summary>
    public long TablePages { get; private set; }

    /// <summary>Invalidations sent to the notifiers so far.</summary>
    public long InvalidationsSent { get; private set; }

    /// <summary>
    /// A software walk: the leaf entry translating <paramref name="va"/> and its level (1 = 4 KiB PTE, 2 = 2 MiB PDE),
    /// or 0 with the level of the first not-present entry.
    /// </summary>
    public ulong ReadLeaf(ulong va, out int level)
    {
        lock (_memory.Sync)
        {
            level = CpuPte.Levels;
            if (Root.Value == 0 || va >= InputLimit)
            {
                return 0;
            }

            ulong table = Root.Value;
            for (int shift = 39; ; shift -= 9, level--)
            {
                ulong entry = _memory.ReadU64(new PhysAddr(table + (((va >> shift) & 511) << 3)));
                if (!CpuPte.IsPresent(entry))
                {
                    return 0;
                }

                if (level == 1 || (level == 2 && (entry & CpuPte.PageSize) != 0))
                {
                    return entry;
                }

                table = entry & CpuPte.AddressMask;
            }
        }
    }

    /// <summary>
    /// Makes the entries of every 2 MiB region touching [<paramref name="start"/>, <paramref name="end"/>) match the
    /// address space, then reports changed present entries to the notifiers and frees unused table pages. Regions with
    /// neither mappings nor tables are skipped a PDPT or PML4 entry at a time.
    /// </summary>
    internal void SyncLocked(ulong start, ulong end)
    {
        if (Root.Value == 0)
        {
            return;
        }

        start &= ~(RegionSize - 1);
        end = Math.Min(InputLimit, (end + RegionSize - 1) & ~(RegionSize - 1));
        Span<ulong> wanted = stackalloc ulong[EntriesPerTable];
        ulong va = start;
        while (va < end)
        {
            ulong pml4e = ReadEntry(Root.Value, va, 39);
            if (!CpuPte.IsPresent(pml4e))
            {
                ulong next = (va & ~(Pml4Span - 1)) + Pml4Span;
                if (!_mm.AnyMappingLocked(va, Math.Min(next, end)))
                {
                    va = next;
                    continue;
                }
            }
            else if (!CpuPte.IsPresent(ReadEntry(pml4e & CpuPte.AddressMask, va, 30)))
            {
                ulong next = (va & ~(PdptSpan - 1)) + PdptSpan;
                if (!_mm.AnyMappingLocked(va, Math.Min(next, end)))
                {
                    va = next;
                    continue;
                }
            }

            SyncRegion(va, wanted);
            va += RegionSize;
        }

        FlushLocked();
    }

    /// <summary>Frees every table page (exit_mmap's <c>free_pgtables</c>); the notifiers were released before.</summary>
    internal void DestroyLocked()
    {
        if (Root.Value == 0)
        {
            return;
        }

        FreeTree(Root, CpuPte.Levels);
        Root = PhysAddr.Zero;
        TablePages = 0;
    }

    private void SyncRegion(ulong region, Span<ulong> wanted)
    {
        bool any = _mm.WantedEntriesLocked(region, wanted, out ulong hugeLeaf);
        PhysAddr pdpt = Descend(Root, region, 39, any);
        PhysAddr pd = pdpt.Value == 0 ? PhysAddr.Zero : Descend(pdpt, region, 30, any);
        if (pd.Value == 0)
        {
            return; // nothing mapped here, nothing wanted (or no frame for a table: left not present)
        }

        Span<ulong> pdEntries = _memory.TableEntries(pd);
        int pdIndex = (int)((region >> 21) & 511);
        ulong old = pdEntries[pdIndex];
        bool oldHuge = CpuPte.IsPresent(old) && (old & CpuPte.PageSize) != 0;
        PhysAddr oldTable = CpuPte.IsPresent(old) && !oldHuge ? CpuPte.Address(old) : PhysAddr.Zero;

        if (hugeLeaf != 0)
        {
            if (old == hugeLeaf)
            {
                return;
            }

            pdEntries[pdIndex] = hugeLeaf;
            if (oldHuge || (oldTable.Value != 0 && AnyPresent(oldTable)))
            {
                Invalidate(region, region + RegionSize);
            }

            if (oldTable.Value != 0)
            {
                FreeLater(oldTable);
            }

            return;
        }

        PhysAddr pt = oldTable;
        if (pt.Value == 0 && any)
        {
            if (!TryAllocateTable(out pt))
            {
                any = false; // no frame for the PT: leave the region not present
            }
            else
            {
                if (oldHuge)
                {
                    // Split: the PT starts as the huge page's 512 entries, so only the ones that differ count as changed.
                    Span<ulong> split = _memory.TableEntries(pt);
                    ulong flags = old & ~CpuPte.AddressMask & ~CpuPte.PageSize;
                    for (int i = 0; i < EntriesPerTable; i++)
                    {
                        split[i] = (CpuPte.Address(old).Value + ((ulong)i << 12)) | flags;
                    }
                }

                pdEntries[pdIndex] = CpuPte.Table(pt);
            }
        }

        if (pt.Value == 0)
        {
            if (oldHuge)
            {
                pdEntries[pdIndex] = 0;
                Invalidate(region, region + RegionSize);
                PruneAbove(pdpt, pd, region);
            }

            return;
        }

        Span<ulong> entries = _memory.TableEntries(pt);
        for (int i = 0; i < EntriesPerTable; i++)
        {
            ulong was = entries[i];
            ulong now = wanted[i];
            if (was != now)
            {
                entries[i] = now;
                if (CpuPte.IsPresent(was))
                {
                    ulong va = region + ((ulong)i << 12);
                    Invalidate(va, va + 4096);
                }
            }
        }

        if (!any)
        {
            pdEntries[pdIndex] = 0;
            FreeLater(pt);
            PruneAbove(pdpt, pd, region);
        }
    }

    // After a PD entry was cleared: frees the PD, then the PDPT, when they hold nothing more.
    private void PruneAbove(PhysAddr pdpt, PhysAddr pd, ulong va)
    {
        if (AnyPresent(pd))
        {
            return;
        }

        _memory.TableEntries(pdpt)[(int)((va >> 30) & 511)] = 0;
        FreeLater(pd);
        if (AnyPresent(pdpt))
        {
            return;
        }

        _memory.TableEntries(Root)[(int)((va >> 39) & 511)] = 0;
        FreeLater(pdpt);
    }

    // The table the entry of `table` for `va` points at, allocated (and linked) when missing and `allocate`.
    private PhysAddr Descend(PhysAddr table, ulong va, int shift, bool allocate)
    {
        Span<ulong> entries = _memory.TableEntries(table);
        int index = (int)((va >> shift) & 511);
        ulong entry = entries[index];
        if (CpuPte.IsPresent(entry))
        {
            return CpuPte.Address(entry);
        }

        if (!allocate || !TryAllocateTable(out PhysAddr child))
        {
            return PhysAddr.Zero;
        }

        entries[index] = CpuPte.Table(child);
        return child;
    }

    private bool TryAllocateTable(out PhysAddr table)
    {
        if (!_memory.Frames.TryAllocateLocked(out ulong pfn))
        {
            table = PhysAddr.Zero;
            return false;
        }

        table = PhysAddr.FromFrame(pfn);
        TablePages++;
        return true;
    }

    private void FreeLater(PhysAddr table) => _freeAfterFlush.Add(table);

    private void Invalidate(ulong start, ulong end)
    {
        _invalidStart = Math.Min(_invalidStart, start);
        _invalidEnd = Math.Max(_invalidEnd, end);
    }

    // Tells the notifiers about the changed range, then frees the table pages nothing can walk any more.
    private void FlushLocked()
    {
        if (_invalidStart < _invalidEnd)
        {
            ulong start = _invalidStart;
            ulong end = _invalidEnd;
            _invalidStart = ulong.MaxValue;
            _invalidEnd = 0;
            InvalidationsSent++;
            _mm.NotifyInvalidateLocked(start, end);
        }

        foreach (PhysAddr table in _freeAfterFlush)
        {
            _memory.Frames.Free(table);
            TablePages--;
        }

        _freeAfterFlush.Clear();
    }

    private void FreeTree(PhysAddr table, int level)
    {
        if (level >= 2)
        {
            Span<ulong> entries = _memory.TableEntries(table);
            for (int i = 0; i < EntriesPerTable; i++)
            {
                ulong entry = entries[i];
                if (CpuPte.IsPresent(entry) && (level > 2 || (entry & CpuPte.PageSize) == 0))
                {
                    FreeTree(CpuPte.Address(entry), level - 1);
                }
            }
        }

        _memory.Frames.Free(table);
    }

    private bool AnyPresent(PhysAddr table)
    {
        ReadOnlySpan<ulong> entries = _memory.ReadTableEntries(table);
        for (int i = 0; i < entries.Length; i++)
        {
            if (CpuPte.IsPresent(entries[i]))
            {
                return true;
            }
        }

        return false;
    }

    private ulong ReadEntry(ulong table, ulong va, int shift) => _memory.ReadU64(new PhysAddr(table + (((va >> shift) & 511) << 3)));
}
