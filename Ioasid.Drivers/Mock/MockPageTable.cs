using System;
using System.Runtime.CompilerServices;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// The mock driver's IO page table in <see cref="MockPteFormat"/>: the code behind its domain's <c>map_pages</c>,
/// <c>unmap_pages</c>, <c>iova_to_phys</c> and <c>free</c>, in the manner of the kernel's io-pgtable library. Table
/// pages come from the machine's <see cref="FrameAllocator"/> and live in <see cref="PhysicalMemory"/>, where the mock
/// hardware walks them.
/// </summary>
/// <remarks>
/// <para>
/// Cost model: a map or unmap walks from the root once per table page it touches and then fills or clears the
/// consecutive entries of that page in a tight loop, so a 256-page run costs three short walks plus 256 stores.
/// Nothing is allocated per page; only a new table page (from the frame allocator) or the first write into a 2 MiB
/// block of simulated memory allocates.
/// </para>
/// <para>
/// Each table entry keeps in its <c>SWCNT</c> bits the number of present entries of the table it points to, so a
/// table emptied by an unmap is detected in O(1): it is unlinked from its parent and put on the gather's
/// <see cref="IotlbGather.Freelist"/>, to be returned to the allocator by <see cref="FreeGatheredTables"/> only after
/// the IOTLB sync (drivers.md §1.6). The root is never freed before <see cref="Destroy"/>.
/// </para>
/// <para>
/// Rules, as io-pgtable-arm: mapping over a present entry fails with <see cref="Errno.EEXIST"/> (a 4 KiB map under
/// a 2 MiB leaf, or a 2 MiB map over a table, included); an unmap stops at a hole and returns the bytes unmapped
/// before it; a 4 KiB unmap that meets a 2 MiB leaf does not split it: it stops there and returns the bytes unmapped
/// before it (0 when the leaf is the first thing it meets). A 2 MiB unmap over a table of 4 KiB leaves removes the
/// table and all its leaves.
/// </para>
/// <para>Not thread-safe: the caller serialises map, unmap and destroy (the iommufd core does, per domain).</para>
/// </remarks>
internal sealed class MockPageTable
{
    private const ulong CountOne = 1UL << F.SoftwareCountShift;

    private readonly PhysicalMemory _memory;
    private PhysAddr _root;
    private int _rootCount;
    private long _tablePages;
    private long _pendingFree;

    /// <summary>Creates an empty table: allocates the root page.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.ENOMEM"/>: no free frame for the root.</exception>
    public MockPageTable(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        _root = memory.Frames.AllocateZeroed();
        _tablePages = 1;
    }

    /// <summary>The page sizes this table maps: 4 KiB | 2 MiB.</summary>
    public static ulong PageSizeBitmap => F.PageSizeBitmap;

    /// <summary>The physical address of the root table page, what the hardware's context entry points at.</summary>
    public PhysAddr Root
    {
        get
        {
            ThrowIfDestroyed();
            return _root;
        }
    }

    /// <summary>The memory the table lives in.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>Table pages allocated and not yet returned to the allocator: those linked in the tree plus <see cref="PendingFreeTablePages"/>.</summary>
    public long TablePages => _tablePages;

    /// <summary>Table pages unlinked by an unmap and waiting on a gather's freelist for <see cref="FreeGatheredTables"/>.</summary>
    public long PendingFreeTablePages => _pendingFree;

    /// <summary>Whether <see cref="Destroy"/> has run.</summary>
    public bool IsDestroyed => _root.Value == 0;

    /// <summary>
    /// <c>map_pages</c>: maps <paramref name="pageCount"/> pages of <paramref name="pageSize"/> (4 KiB or 2 MiB) from
    /// <paramref name="iova"/> to <paramref name="pa"/> with <paramref name="prot"/>'s read and write bits (the other
    /// <see cref="IommuProt"/> bits have no encoding in this format and are ignored).
    /// </summary>
    /// <param name="iova">First IOVA, aligned to <paramref name="pageSize"/>.</param>
    /// <param name="pa">First physical address, aligned to <paramref name="pageSize"/>.</param>
    /// <param name="pageSize">4 KiB or 2 MiB.</param>
    /// <param name="pageCount">How many pages.</param>
    /// <param name="prot">Read and/or write must be set.</param>
    /// <param name="mapped">Bytes mapped, also on failure: the pages before the one that failed stay mapped.</param>
    /// <returns>
    /// <see cref="Errno.None"/>; <see cref="Errno.EINVAL"/> for a bad page size, misalignment or no access;
    /// <see cref="Errno.ERANGE"/> for an IOVA range beyond 2^48 or an output beyond 2^52;
    /// <see cref="Errno.EEXIST"/> when an entry on the way is already present; <see cref="Errno.ENOMEM"/> when a
    /// table page cannot be allocated.
    /// </returns>
    public Errno MapPages(Iova iova, PhysAddr pa, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped)
    {
        ThrowIfDestroyed();
        mapped = 0;
        ulong va = iova.Value;
        ulong phys = pa.Value;
        if (!TryLeafLevel(pageSize, out int leafLevel) || ((va | phys) & (pageSize - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        ulong permissions = ((prot & IommuProt.Read) != 0 ? F.Read : 0) | ((prot & IommuProt.Write) != 0 ? F.Write : 0);
        if (permissions == 0)
        {
            return Errno.EINVAL;
        }

        if (pageCount == 0)
        {
            return Errno.None;
        }

        int shift = F.LevelShift(leafLevel);
        const ulong outputLimit = 1UL << F.OutputBits;
        if (va >= F.InputLimit || phys >= outputLimit
            || pageCount > ((F.InputLimit - va) >> shift) || pageCount > ((outputLimit - phys) >> shift))
        {
            return Errno.ERANGE;
        }

        ulong pte = leafLevel == 1 ? F.EncodeLeaf4K(pa, permissions) : F.EncodeLeaf2M(pa, permissions);
        ulong remaining = pageCount;
        while (remaining != 0)
        {
            ref ulong parent = ref WalkForMap(va, leafLevel, out Errno error);
            if (error != Errno.None)
            {
                return error;
            }

            int first = F.Index(va, leafLevel);
            int count = (int)Math.Min(remaining, (ulong)(F.EntriesPerTable - first));
            Span<ulong> run = _memory.TableEntries(F.Address(parent)).Slice(first, count);
            int filled = 0;
            while (filled < run.Length)
            {
                if ((run[filled] & F.Present) != 0)
                {
                    break;
                }

                run[filled] = pte;
                pte += pageSize;
                filled++;
            }

            parent += (ulong)filled * CountOne;
            ulong bytes = (ulong)filled << shift;
            mapped += bytes;
            if (filled != count)
            {
                return Errno.EEXIST;
            }

            va += bytes;
            remaining -= (ulong)count;
        }

        return Errno.None;
    }

    /// <summary>
    /// <c>unmap_pages</c>: clears up to <paramref name="pageCount"/> pages of <paramref name="pageSize"/> from
    /// <paramref name="iova"/> and records them in <paramref name="gather"/> with <c>add_page</c> semantics: the first
    /// page of each run goes through <see cref="IotlbGather.AddPage"/> (which syncs early through
    /// <paramref name="domain"/> when the run is disjoint from what is gathered or of another page size), the rest of
    /// the run widens the range with <see cref="IotlbGather.AddRange"/>. Emptied table pages go on the gather's
    /// freelist; free them with <see cref="FreeGatheredTables"/> after the invalidation.
    /// </summary>
    /// <returns>
    /// The bytes unmapped: short at a hole, at a 2 MiB leaf met by a 4 KiB unmap (never split), and 0 for a bad page
    /// size, misalignment or an IOVA beyond 2^48.
    /// </returns>
    public ulong UnmapPages(Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather, IommuDomain domain)
    {
        ThrowIfDestroyed();
        ArgumentNullException.ThrowIfNull(gather);
        ArgumentNullException.ThrowIfNull(domain);
        ulong va = iova.Value;
        if (!TryLeafLevel(pageSize, out int leafLevel) || (va & (pageSize - 1)) != 0 || va >= F.InputLimit)
        {
            return 0;
        }

        int shift = F.LevelShift(leafLevel);
        ulong remaining = Math.Min(pageCount, (F.InputLimit - va) >> shift);
        ulong unmapped = 0;
        while (remaining != 0)
        {
            ref ulong parent = ref WalkForUnmap(va, leafLevel);
            if (Unsafe.IsNullRef(ref parent))
            {
                return unmapped; // a hole above the leaf level, or a 2 MiB leaf that a 4 KiB unmap would split
            }

            int first = F.Index(va, leafLevel);
            int count = (int)Math.Min(remaining, (ulong)(F.EntriesPerTable - first));
            Span<ulong> run = _memory.TableEntries(F.Address(parent)).Slice(first, count);
            if ((run[0] & F.Present) == 0)
            {
                return unmapped;
            }

            // Record before anything goes on the freelist: an early sync frees the freelist of the previous range.
            gather.AddPage(domain, new Iova(va), pageSize);
            int cleared = 0;
            while (cleared < run.Length)
            {
                ulong entry = run[cleared];
                if ((entry & F.Present) == 0)
                {
                    break;
                }

                if (leafLevel == 2 && (entry & F.PageSizeBit) == 0)
                {
                    // A 2 MiB unmap over a table of 4 KiB leaves removes the table with everything in it.
                    ReleaseTable(F.Address(entry), gather);
                }

                run[cleared] = 0;
                cleared++;
            }

            ulong bytes = (ulong)cleared << shift;
            if (cleared > 1)
            {
                gather.AddRange(new Iova(va), bytes);
            }

            parent -= (ulong)cleared * CountOne;
            if ((parent & F.SoftwareCountMask) == 0)
            {
                ReleaseEmptied(va, leafLevel + 1, gather);
            }

            unmapped += bytes;
            if (cleared != count)
            {
                return unmapped;
            }

            va += bytes;
            remaining -= (ulong)count;
        }

        return unmapped;
    }

    /// <summary>
    /// Returns every page on <paramref name="gather"/>'s freelist to the frame allocator and empties the list: call
    /// after the gathered range has been invalidated (from <c>iotlb_sync</c> or <c>flush_iotlb_all</c>). The freelist
    /// must hold only this table's pages.
    /// </summary>
    public void FreeGatheredTables(IotlbGather gather)
    {
        ArgumentNullException.ThrowIfNull(gather);
        FrameAllocator frames = _memory.Frames;
        foreach (PhysAddr page in gather.Freelist)
        {
            frames.Free(page);
        }

        _pendingFree -= gather.Freelist.Count;
        _tablePages -= gather.Freelist.Count;
        gather.Freelist.Clear();
    }

    /// <summary>
    /// <c>read_and_clear_dirty</c>: reports every leaf in <c>[iova, iova + size)</c> whose <c>D</c> bit the hardware
    /// set (a 2 MiB leaf reports all it covers), and clears <c>D</c> unless <paramref name="noClear"/>. The cleared
    /// ranges land in <paramref name="dirty"/>'s gather: the caller must invalidate them, or cached entries would
    /// never set <c>D</c> again.
    /// </summary>
    public void ReadAndClearDirty(Iova iova, ulong size, bool noClear, DirtyBitmap dirty)
    {
        ThrowIfDestroyed();
        PhysicalMemory memory = _memory;
        ulong va = iova.Value;
        ulong end = iova.Value + size; // exclusive; the caller checked it does not wrap
        while (va < end && va < F.InputLimit)
        {
            ulong table = _root.Value;
            int level = F.RootLevel;
            while (true)
            {
                int shift = F.LevelShift(level);
                var slot = new PhysAddr(table + (((va >> shift) & F.IndexMask) << 3));
                ulong entry = memory.ReadU64(slot);
                ulong span = 1UL << shift;
                ulong entryBase = va & ~(span - 1);
                if ((entry & F.Present) == 0 || F.IsLeaf(entry, level))
                {
                    if ((entry & (F.Present | F.Dirty)) == (F.Present | F.Dirty))
                    {
                        dirty.Record(new Iova(entryBase), span);
                        if (!noClear)
                        {
                            memory.WriteU64(slot, entry & ~F.Dirty);
                        }
                    }

                    va = entryBase + span;
                    break;
                }

                table = entry & F.AddressMask;
                level--;
            }
        }
    }

    /// <summary><c>iova_to_phys</c>: the software walk. False when nothing is mapped at <paramref name="iova"/>.</summary>
    public bool IovaToPhys(Iova iova, out PhysAddr physical)
    {
        ThrowIfDestroyed();
        ulong va = iova.Value;
        physical = PhysAddr.Zero;
        if (va >= F.InputLimit)
        {
            return false;
        }

        PhysicalMemory memory = _memory;
        ulong table = _root.Value;
        for (int level = F.RootLevel; level >= 1; level--)
        {
            int shift = F.LevelShift(level);
            ulong entry = memory.ReadU64(new PhysAddr(table + (((va >> shift) & F.IndexMask) << 3)));
            if ((entry & F.Present) == 0)
            {
                return false;
            }

            if (level == 1 || (entry & F.PageSizeBit) != 0)
            {
                ulong offsetMask = (1UL << shift) - 1;
                physical = new PhysAddr((entry & F.AddressMask & ~offsetMask) | (va & offsetMask));
                return true;
            }

            table = entry & F.AddressMask;
        }

        return false;
    }

    /// <summary>
    /// <c>free</c>: returns every table page linked in the tree, the root included, to the allocator. Pages still on a
    /// gather's freelist are not reachable from here: sync and <see cref="FreeGatheredTables"/> first. Idempotent.
    /// </summary>
    public void Destroy()
    {
        if (IsDestroyed)
        {
            return;
        }

        FreeTree(_root, F.RootLevel);
        _root = PhysAddr.Zero;
        _rootCount = 0;
    }

    private static bool TryLeafLevel(ulong pageSize, out int leafLevel)
    {
        leafLevel = pageSize == F.PageSize4K ? 1 : pageSize == F.PageSize2M ? 2 : 0;
        return leafLevel != 0;
    }

    // Walks to the entry that points at the level-`leafLevel` table holding iova's leaf, allocating missing tables.
    private ref ulong WalkForMap(ulong va, int leafLevel, out Errno error)
    {
        error = Errno.None;
        PhysAddr table = _root;
        ref ulong owner = ref Unsafe.NullRef<ulong>(); // the entry pointing at `table`; null for the root
        for (int level = F.RootLevel; level > leafLevel; level--)
        {
            ref ulong entry = ref _memory.TableEntries(table)[F.Index(va, level)];
            if ((entry & F.Present) == 0)
            {
                if (!TryAllocateTable(out PhysAddr fresh))
                {
                    error = Errno.ENOMEM;
                    return ref Unsafe.NullRef<ulong>();
                }

                entry = F.EncodeTable(fresh);
                if (Unsafe.IsNullRef(ref owner))
                {
                    _rootCount++;
                }
                else
                {
                    owner += CountOne;
                }
            }
            else if ((entry & F.PageSizeBit) != 0)
            {
                error = Errno.EEXIST; // a 2 MiB leaf where a 4 KiB map needs a table
                return ref Unsafe.NullRef<ulong>();
            }

            owner = ref entry;
            table = F.Address(entry);
        }

        return ref owner;
    }

    // Walks to the entry pointing at iova's level-`leafLevel` table; null at a hole or at a leaf above leafLevel.
    private ref ulong WalkForUnmap(ulong va, int leafLevel)
    {
        PhysAddr table = _root;
        ref ulong owner = ref Unsafe.NullRef<ulong>();
        for (int level = F.RootLevel; level > leafLevel; level--)
        {
            ref ulong entry = ref _memory.TableEntries(table)[F.Index(va, level)];
            if ((entry & F.Present) == 0 || (entry & F.PageSizeBit) != 0)
            {
                return ref Unsafe.NullRef<ulong>();
            }

            owner = ref entry;
            table = F.Address(entry);
        }

        return ref owner;
    }

    // The table of level `level - 1` under iova, pointed at from level `level`, has no present entry left: unlink it,
    // queue it for freeing, and continue upwards while the parent empties too. The root is never released here.
    private void ReleaseEmptied(ulong va, int level, IotlbGather gather)
    {
        while (true)
        {
            ref ulong pointer = ref EntryAt(va, level);
            ReleaseTable(F.Address(pointer), gather);
            pointer = 0;
            if (level == F.RootLevel)
            {
                _rootCount--;
                return;
            }

            ref ulong above = ref EntryAt(va, level + 1);
            above -= CountOne;
            if ((above & F.SoftwareCountMask) != 0)
            {
                return;
            }

            level++;
        }
    }

    // The entry for va in its level-`level` table (every table above it is present).
    private ref ulong EntryAt(ulong va, int level)
    {
        PhysAddr table = _root;
        for (int l = F.RootLevel; l > level; l--)
        {
            table = F.Address(_memory.TableEntries(table)[F.Index(va, l)]);
        }

        return ref _memory.TableEntries(table)[F.Index(va, level)];
    }

    private void ReleaseTable(PhysAddr table, IotlbGather gather)
    {
        gather.Freelist.Add(table);
        _pendingFree++;
    }

    private bool TryAllocateTable(out PhysAddr table)
    {
        try
        {
            table = _memory.Frames.AllocateZeroed();
        }
        catch (IoasidException e) when (e.Errno == Errno.ENOMEM)
        {
            table = PhysAddr.Zero;
            return false;
        }

        _tablePages++;
        return true;
    }

    private void FreeTree(PhysAddr table, int level)
    {
        if (level > 1)
        {
            ReadOnlySpan<ulong> entries = _memory.ReadTableEntries(table);
            for (int i = 0; i < entries.Length; i++)
            {
                ulong entry = entries[i];
                if ((entry & F.Present) != 0 && (entry & F.PageSizeBit) == 0)
                {
                    FreeTree(F.Address(entry), level - 1);
                }
            }
        }

        _memory.Frames.Free(table);
        _tablePages--;
    }

    private void ThrowIfDestroyed()
    {
        if (_root.Value == 0)
        {
            throw new ObjectDisposedException(nameof(MockPageTable), "The page table has been destroyed.");
        }
    }
}
