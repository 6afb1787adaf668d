using System;
using System.Runtime.CompilerServices;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// A VT-d IO page table in simulated memory: the code behind a domain's <c>map_pages</c>, <c>unmap_pages</c>,
/// <c>iova_to_phys</c> and <c>free</c>, shared by the second-stage and first-stage formats.
/// </summary>
/// <remarks>
/// <para>
/// Map walks from the root once per table page it touches and fills that page's consecutive entries in a tight loop
/// (a 256-page run is one walk plus 256 stores); nothing is allocated per page.
/// </para>
/// <para>
/// Unmap follows the kernel's VT-d driver (drivers.md §1.6): a request that lands in a larger leaf is rounded up to
/// that leaf, which is removed whole, and the returned size is the larger one; holes are skipped and still counted,
/// as <c>intel_iommu_unmap</c> does. A larger unmap over a table of smaller leaves removes the table. Tables emptied
/// by an unmap are unlinked and put on the gather's freelist, to be freed only after the IOTLB sync.
/// </para>
/// <para>Not thread-safe: the caller serialises map, unmap and destroy.</para>
/// </remarks>
internal sealed class VtdPageTable<TFormat> : IVtdIoPageTable
    where TFormat : struct, IVtdPteFormat
{
    private const ulong PageSizeBit = 1UL << 7;
    private const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;
    private const int CountShift = 52;
    private const ulong CountOne = 1UL << CountShift;
    private const ulong CountMask = 0x3FFUL << CountShift;

    private readonly PhysicalMemory _memory;
    private readonly int _maxLeafLevel;
    private ulong _root;
    private int _rootCount;

    public VtdPageTable(PhysicalMemory memory, int levels, ulong inputLimit, ulong pageSizeBitmap)
    {
        _memory = memory;
        Levels = levels;
        InputLimit = inputLimit;
        PageSizeBitmap = pageSizeBitmap;
        _maxLeafLevel = (pageSizeBitmap & (1UL << 30)) != 0 ? 3 : (pageSizeBitmap & (1UL << 21)) != 0 ? 2 : 1;
        _root = memory.Frames.AllocateZeroed().Value;
        TablePages = 1;
    }

    public int Levels { get; }

    public ulong InputLimit { get; }

    public ulong PageSizeBitmap { get; }

    public PhysAddr Root => new(_root);

    public long TablePages { get; private set; }

    public long LeafEntriesWritten { get; private set; }

    public bool IsDestroyed => _root == 0;

    private static int LevelShift(int level) => 12 + (9 * (level - 1));

    private static int Index(ulong va, int level) => (int)((va >> LevelShift(level)) & 511);

    private bool TryLeafLevel(ulong pageSize, out int level)
    {
        level = pageSize switch { 1UL << 12 => 1, 1UL << 21 => 2, 1UL << 30 => 3, _ => 0 };
        return level != 0 && level <= _maxLeafLevel && (PageSizeBitmap & pageSize) != 0;
    }

    public Errno MapPages(Iova iova, PhysAddr pa, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped)
    {
        mapped = 0;
        ulong va = iova.Value;
        ulong phys = pa.Value;
        if (_root == 0 || !TryLeafLevel(pageSize, out int leafLevel) || ((va | phys) & (pageSize - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        ulong bits = TFormat.LeafBits(prot);
        if (bits == 0)
        {
            return Errno.EINVAL;
        }

        if (pageCount == 0)
        {
            return Errno.None;
        }

        int shift = LevelShift(leafLevel);
        if (va >= InputLimit || pageCount > ((InputLimit - va) >> shift) || phys > AddressMask || pageCount > ((AddressMask + 0x1000 - phys) >> shift))
        {
            return Errno.ERANGE;
        }

        ulong pte = phys | bits | (leafLevel > 1 ? PageSizeBit : 0);
        ulong remaining = pageCount;
        while (remaining != 0)
        {
            ref ulong parent = ref WalkForMap(va, leafLevel, out Errno error);
            if (error != Errno.None)
            {
                return error;
            }

            int first = Index(va, leafLevel);
            int count = (int)Math.Min(remaining, (ulong)(512 - first));
            Span<ulong> run = _memory.TableEntries(new PhysAddr(Unsafe.IsNullRef(ref parent) ? _root : parent & AddressMask)).Slice(first, count);
            int filled = 0;
            for (; filled < run.Length; filled++)
            {
                if (TFormat.IsPresent(run[filled]))
                {
                    break;
                }

                run[filled] = pte;
                pte += pageSize;
            }

            if (Unsafe.IsNullRef(ref parent))
            {
                _rootCount += filled;
            }
            else
            {
                parent += (ulong)filled * CountOne;
            }

            LeafEntriesWritten += filled;
            ulong bytes = (ulong)filled << shift;
            mapped += bytes;
            if (filled != count)
            {
                return Errno.EBUSY; // the kernel's VT-d map refuses to overwrite a present entry
            }

            va += bytes;
            remaining -= (ulong)count;
        }

        return Errno.None;
    }

    public ulong UnmapPages(Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather, IommuDomain domain)
    {
        ulong va = iova.Value;
        if (_root == 0 || !TryLeafLevel(pageSize, out int requestLevel) || (va & (pageSize - 1)) != 0 || va >= InputLimit || pageCount == 0)
        {
            return 0;
        }

        ulong size = Math.Min(pageCount, (InputLimit - va) >> LevelShift(requestLevel)) << LevelShift(requestLevel);
        if (TryUnmapWithinOneTable(va, size, requestLevel, gather, domain))
        {
            return size;
        }

        // intel_iommu_unmap: a request smaller than the leaf it lands in is rounded up to that leaf.
        int leafLevel = LeafLevelAt(va);
        if (leafLevel > requestLevel)
        {
            ulong leafSize = 1UL << LevelShift(leafLevel);
            va &= ~(leafSize - 1);
            size = Math.Max(size, leafSize);
        }

        gather.AddPage(domain, new Iova(va), size);
        ClearRange(va, va + size, gather);
        return size;
    }

    // The common case in one walk: [va, va + size) lies inside one table at the requested level, reached through table
    // entries only, and holds leaves of exactly that size (or holes). Anything else (a larger leaf to round up to, a
    // table of smaller leaves, a range crossing tables, a missing table) is left to the general path, untouched.
    private bool TryUnmapWithinOneTable(ulong va, ulong size, int level, IotlbGather gather, IommuDomain domain)
    {
        int shift = LevelShift(level);
        int first = Index(va, level);
        ulong count = size >> shift;
        if (count > (ulong)(512 - first))
        {
            return false;
        }

        ulong table = _root;
        ref ulong owner = ref Unsafe.NullRef<ulong>();
        for (int l = Levels; l > level; l--)
        {
            ref ulong entry = ref _memory.TableEntries(new PhysAddr(table))[Index(va, l)];
            if (!TFormat.IsPresent(entry) || (entry & PageSizeBit) != 0)
            {
                return false;
            }

            owner = ref entry;
            table = entry & AddressMask;
        }

        Span<ulong> run = _memory.TableEntries(new PhysAddr(table)).Slice(first, (int)count);
        if (level > 1)
        {
            foreach (ulong e in run)
            {
                if (TFormat.IsPresent(e) && (e & PageSizeBit) == 0)
                {
                    return false;
                }
            }
        }

        gather.AddPage(domain, new Iova(va), size);
        int cleared = 0;
        for (int i = 0; i < run.Length; i++)
        {
            if (TFormat.IsPresent(run[i]))
            {
                run[i] = 0;
                cleared++;
            }
        }

        if (Unsafe.IsNullRef(ref owner))
        {
            _rootCount -= cleared;
        }
        else
        {
            owner -= (ulong)cleared * CountOne;
            if (cleared != 0 && (owner & CountMask) == 0)
            {
                ReleaseEmptied(va, level + 1, gather);
            }
        }

        return true;
    }

    // Clears every leaf in [start, end), entry run by entry run, descending only where a table straddles the range.
    private void ClearRange(ulong start, ulong end, IotlbGather gather)
    {
        ulong va = start;
        while (va < end)
        {
            // Find the highest level at which [va, ...) is covered by whole entries, or a leaf/hole that ends the descent.
            ulong table = _root;
            ref ulong owner = ref Unsafe.NullRef<ulong>();
            int level = Levels;
            while (true)
            {
                int shift = LevelShift(level);
                ulong span = 1UL << shift;
                Span<ulong> entries = _memory.TableEntries(new PhysAddr(table));
                int index = Index(va, level);
                ref ulong entry = ref entries[index];
                bool whole = (va & (span - 1)) == 0 && end - va >= span;
                if (!TFormat.IsPresent(entry))
                {
                    va = (va & ~(span - 1)) + span; // a hole: skip the entry
                    break;
                }

                bool leaf = level == 1 || (entry & PageSizeBit) != 0;
                if (leaf || whole)
                {
                    // Clear a run of entries at this level: leaves (removed whole, superpages included) or whole subtrees.
                    int cleared = 0;
                    for (; index < 512 && va < end; index++)
                    {
                        ref ulong e = ref entries[index];
                        bool eWhole = (va & (span - 1)) == 0 && end - va >= span;
                        if (TFormat.IsPresent(e))
                        {
                            bool eLeaf = level == 1 || (e & PageSizeBit) != 0;
                            if (!eLeaf && !eWhole)
                            {
                                break; // a table only partly covered: descend for it on the next round
                            }

                            if (!eLeaf)
                            {
                                ReleaseTree(e & AddressMask, level - 1, gather);
                            }

                            e = 0;
                            cleared++;
                        }

                        va = (va & ~(span - 1)) + span;
                    }

                    if (Unsafe.IsNullRef(ref owner))
                    {
                        _rootCount -= cleared;
                    }
                    else
                    {
                        owner -= (ulong)cleared * CountOne;
                        if ((owner & CountMask) == 0)
                        {
                            ReleaseEmptied(va - 1, level + 1, gather);
                        }
                    }

                    break;
                }

                owner = ref entry;
                table = entry & AddressMask;
                level--;
            }
        }
    }

    // The level of the leaf translating va, or 0 when nothing is mapped there.
    private int LeafLevelAt(ulong va)
    {
        ulong table = _root;
        for (int level = Levels; level >= 1; level--)
        {
            ulong entry = _memory.ReadTableEntries(new PhysAddr(table))[Index(va, level)];
            if (!TFormat.IsPresent(entry))
            {
                return 0;
            }

            if (level == 1 || (entry & PageSizeBit) != 0)
            {
                return level;
            }

            table = entry & AddressMask;
        }

        return 0;
    }

    public bool IovaToPhys(Iova iova, out PhysAddr physical)
    {
        ulong va = iova.Value;
        physical = PhysAddr.Zero;
        if (_root == 0 || va >= InputLimit)
        {
            return false;
        }

        ulong table = _root;
        for (int level = Levels; level >= 1; level--)
        {
            int shift = LevelShift(level);
            ulong entry = _memory.ReadU64(new PhysAddr(table + (((va >> shift) & 511) << 3)));
            if (!TFormat.IsPresent(entry))
            {
                return false;
            }

            if (level == 1 || (entry & PageSizeBit) != 0)
            {
                ulong offsetMask = (1UL << shift) - 1;
                physical = new PhysAddr((entry & AddressMask & ~offsetMask) | (va & offsetMask));
                return true;
            }

            table = entry & AddressMask;
        }

        return false;
    }

    /// <summary>
    /// <c>read_and_clear_dirty</c> over <c>[iova, iova + size)</c>: every present leaf with <paramref name="dirtyBit"/>
    /// set is recorded whole (a 2 MiB leaf reports every page it covers) and, unless <paramref name="noClear"/>, has the
    /// bit cleared — the recorded range then lands in the bitmap's gather for the caller to invalidate. Holes are skipped.
    /// </summary>
    public void ReadAndClearDirty(Iova iova, ulong size, ulong dirtyBit, bool noClear, DirtyBitmap dirty)
    {
        ulong va = iova.Value;
        ulong end = size > InputLimit - Math.Min(va, InputLimit) ? InputLimit : va + size; // exclusive
        while (_root != 0 && va < end)
        {
            ulong table = _root;
            for (int level = Levels; ; level--)
            {
                int shift = LevelShift(level);
                var slot = new PhysAddr(table + (((va >> shift) & 511) << 3));
                ulong entry = _memory.ReadU64(slot);
                ulong span = 1UL << shift;
                ulong entryBase = va & ~(span - 1);
                bool present = TFormat.IsPresent(entry);
                if (!present || level == 1 || (entry & PageSizeBit) != 0)
                {
                    if (present && (entry & dirtyBit) != 0)
                    {
                        dirty.Record(new Iova(entryBase), span);
                        if (!noClear)
                        {
                            _memory.WriteU64(slot, entry & ~dirtyBit);
                        }
                    }

                    va = entryBase + span;
                    break;
                }

                table = entry & AddressMask;
            }
        }
    }

    public void FreeGatheredTables(IotlbGather gather)
    {
        FrameAllocator frames = _memory.Frames;
        foreach (PhysAddr page in gather.Freelist)
        {
            frames.Free(page);
        }

        TablePages -= gather.Freelist.Count;
        gather.Freelist.Clear();
    }

    public void Destroy()
    {
        if (_root == 0)
        {
            return;
        }

        FreeTree(_root, Levels);
        _root = 0;
        _rootCount = 0;
    }

    // Walks to the entry pointing at the level-`leafLevel` table holding va's leaf, allocating missing tables; a null
    // ref means the root itself is that table.
    private ref ulong WalkForMap(ulong va, int leafLevel, out Errno error)
    {
        error = Errno.None;
        ulong table = _root;
        ref ulong owner = ref Unsafe.NullRef<ulong>();
        for (int level = Levels; level > leafLevel; level--)
        {
            ref ulong entry = ref _memory.TableEntries(new PhysAddr(table))[Index(va, level)];
            if (!TFormat.IsPresent(entry))
            {
                PhysAddr fresh;
                try
                {
                    fresh = _memory.Frames.AllocateZeroed();
                }
                catch (IoasidException e) when (e.Errno == Errno.ENOMEM)
                {
                    error = Errno.ENOMEM;
                    return ref Unsafe.NullRef<ulong>();
                }

                TablePages++;
                entry = TFormat.Table(fresh.Value);
                if (Unsafe.IsNullRef(ref owner))
                {
                    _rootCount++;
                }
                else
                {
                    owner += CountOne;
                }
            }
            else if ((entry & PageSizeBit) != 0)
            {
                error = Errno.EBUSY; // a superpage where a smaller mapping needs a table
                return ref Unsafe.NullRef<ulong>();
            }

            owner = ref entry;
            table = entry & AddressMask;
        }

        return ref owner;
    }

    // The table at level `level - 1` under va, pointed at from level `level`, has no present entry left: unlink it,
    // queue it for freeing, and go on upwards while parents empty too. The root stays.
    private void ReleaseEmptied(ulong va, int level, IotlbGather gather)
    {
        while (true)
        {
            ref ulong pointer = ref EntryAt(va, level);
            gather.Freelist.Add(new PhysAddr(pointer & AddressMask));
            pointer = 0;
            if (level == Levels)
            {
                _rootCount--;
                return;
            }

            ref ulong above = ref EntryAt(va, level + 1);
            above -= CountOne;
            if ((above & CountMask) != 0)
            {
                return;
            }

            level++;
        }
    }

    private ref ulong EntryAt(ulong va, int level)
    {
        ulong table = _root;
        for (int l = Levels; l > level; l--)
        {
            table = _memory.TableEntries(new PhysAddr(table))[Index(va, l)] & AddressMask;
        }

        return ref _memory.TableEntries(new PhysAddr(table))[Index(va, level)];
    }

    // Puts a table of level `level` and every table below it on the freelist (their leaves die with them).
    private void ReleaseTree(ulong table, int level, IotlbGather gather)
    {
        if (level > 1)
        {
            ReadOnlySpan<ulong> entries = _memory.ReadTableEntries(new PhysAddr(table));
            for (int i = 0; i < entries.Length; i++)
            {
                ulong e = entries[i];
                if (TFormat.IsPresent(e) && (e & PageSizeBit) == 0)
                {
                    ReleaseTree(e & AddressMask, level - 1, gather);
                }
            }
        }

        gather.Freelist.Add(new PhysAddr(table));
    }

    private void FreeTree(ulong table, int level)
    {
        if (level > 1)
        {
            ReadOnlySpan<ulong> entries = _memory.ReadTableEntries(new PhysAddr(table));
            for (int i = 0; i < entries.Length; i++)
            {
                ulong e = entries[i];
                if (TFormat.IsPresent(e) && (e & PageSizeBit) == 0)
                {
                    FreeTree(e & AddressMask, level - 1);
                }
            }
        }

        _memory.Frames.Free(new PhysAddr(table));
        TablePages--;
    }
}

/// <summary>The operations a VT-d domain needs from its page table, whatever its format.</summary>
internal interface IVtdIoPageTable
{
    int Levels { get; }

    ulong InputLimit { get; }

    PhysAddr Root { get; }

    long TablePages { get; }

    long LeafEntriesWritten { get; }

    Errno MapPages(Iova iova, PhysAddr pa, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped);

    ulong UnmapPages(Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather, IommuDomain domain);

    bool IovaToPhys(Iova iova, out PhysAddr physical);

    void ReadAndClearDirty(Iova iova, ulong size, ulong dirtyBit, bool noClear, DirtyBitmap dirty);

    void FreeGatheredTables(IotlbGather gather);

    void Destroy();
}
