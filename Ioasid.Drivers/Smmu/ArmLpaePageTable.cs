using System;
using System.Runtime.CompilerServices;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using D = Ioasid.Drivers.Smmu.VmsaDescriptor;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// A VMSAv8-64 IO page table for stage 1 or stage 2 in one granule (the kernel's io-pgtable-arm, ARM_64_LPAE_S1/S2):
/// the code behind an SMMUv3 paging domain's <c>map_pages</c>, <c>unmap_pages</c>, <c>iova_to_phys</c> and
/// <c>free</c>. Tables live in <see cref="PhysicalMemory"/> where the hardware walks them.
/// </summary>
/// <remarks>
/// <para>
/// Levels: the start level follows from the input size (<see cref="Granules.StartLevel"/>); a stage-2 table whose
/// level-0 start would resolve at most 4 bits starts at level 1 with up to 16 concatenated tables instead, as
/// io-pgtable-arm does. Tables are 4, 16 or 64 KiB (the start table as large as its index bits need), aligned to
/// their size.
/// </para>
/// <para>
/// Rules, as io-pgtable-arm (v6.13+): mapping over a valid leaf fails with <see cref="Errno.EEXIST"/>; a block map
/// over an empty table replaces it (the table is freed), over a populated one fails with EEXIST; an unmap stops at
/// a hole; a partial unmap of a block is refused (returns the bytes unmapped before it: 0 when the block comes
/// first) and never splits; a block-size unmap over a table removes the table and its leaves, putting the table on
/// the gather's freelist. Tables emptied by smaller unmaps stay, as in the kernel. A mapping with neither read nor
/// write writes nothing and reports success.
/// </para>
/// <para>
/// Cost: map and unmap descend from the root once per leaf table (or not at all when the previous operation's leaf
/// table — the finger — covers the address) and fill or clear runs of consecutive entries; nothing is allocated per
/// page. Not thread-safe.
/// </para>
/// </remarks>
public sealed class ArmLpaePageTable
{
    private const ulong PageMask4K = 0xFFF;

    private readonly PhysicalMemory _memory;
    private readonly int _stride;
    private readonly int _startIndexBits;
    private PhysAddr _root;
    private ulong _rootBytes;
    private long _tablePages;

    // The finger: the leaf table the last map/unmap used, the level of its entries, and the input it covers.
    private ulong _fingerTable;
    private int _fingerLevel = -1;
    private ulong _fingerBase;

    /// <summary>Creates an empty table: allocates the start-level table.</summary>
    /// <param name="memory">Where the tables live.</param>
    /// <param name="granule">The translation granule.</param>
    /// <param name="inputBits">The input (IOVA or IPA) size in bits.</param>
    /// <param name="outputBits">The output size in bits.</param>
    /// <param name="stage2">Stage-2 descriptors (S2AP, MemAttr) and concatenated start tables.</param>
    /// <exception cref="ArgumentOutOfRangeException">An input size outside 25–48 or output size outside 32–48.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.ENOMEM"/>: no memory for the start table.</exception>
    public ArmLpaePageTable(PhysicalMemory memory, TranslationGranule granule, int inputBits, int outputBits, bool stage2)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputBits, 25);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputBits, 48);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputBits, 32);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputBits, 48);
        _memory = memory;
        Granule = granule;
        InputBits = inputBits;
        OutputBits = outputBits;
        Stage2 = stage2;
        _stride = granule.Stride();
        int start = granule.StartLevel(inputBits);
        int bits = inputBits - granule.LevelShift(start);
        if (stage2 && start == 0 && bits <= 4)
        {
            start = 1;
            bits = inputBits - granule.LevelShift(1);
        }

        StartLevel = start;
        _startIndexBits = bits;
        _rootBytes = Math.Max(granule.PageSize(), 8UL << bits);
        _root = AllocateTable(_rootBytes) ?? throw new IoasidException(Errno.ENOMEM, "no memory for the start-level table");
    }

    /// <summary>The granule.</summary>
    public TranslationGranule Granule { get; }

    /// <summary>The input size in bits.</summary>
    public int InputBits { get; }

    /// <summary>The output size in bits.</summary>
    public int OutputBits { get; }

    /// <summary>Whether this is a stage-2 table.</summary>
    public bool Stage2 { get; }

    /// <summary>
    /// Hardware dirty-state management (io-pgtable's <c>IO_PGTABLE_QUIRK_ARM_HD</c>, stage 1 only): writable leaves get
    /// DBM (bit 51), so AP[2] records their dirty state — AP[2] = 0 "writable-dirty", AP[2] = 1 "writable-clean".
    /// As in the kernel they are written writable-dirty; <see cref="ReadAndClearDirty"/> makes them clean.
    /// </summary>
    public bool HardwareDirty { get; init; }

    /// <summary>The level of the start table.</summary>
    public int StartLevel { get; }

    /// <summary>Index bits the start table resolves (more than a stride for concatenated stage-2 tables).</summary>
    public int StartIndexBits => _startIndexBits;

    /// <summary>The start table's address (CD.TTB0 / STE.S2TTB).</summary>
    public PhysAddr Root => _root;

    /// <summary>The page sizes this table maps.</summary>
    public ulong PageSizeBitmap => Granule.PageSizeBitmap();

    /// <summary>4 KiB frames held by tables (linked or waiting on a freelist).</summary>
    public long TablePages => _tablePages;

    /// <summary>Whether <see cref="Destroy"/> has run.</summary>
    public bool IsDestroyed => _root.Value == 0;

    /// <summary>The leaf descriptor io-pgtable-arm writes for <paramref name="prot"/> at <paramref name="level"/> (without the address).</summary>
    public ulong LeafAttributes(IommuProt prot, int level)
    {
        ulong pte = D.AccessFlag | (level == 3 ? D.TypeTable : D.TypeBlock);
        bool cacheable = (prot & IommuProt.Cache) != 0;
        pte |= (cacheable ? D.ShareabilityInner : 2UL) << D.ShareabilityShift;
        if (Stage2)
        {
            pte |= (prot & IommuProt.Read) != 0 ? D.S2ApRead : 0;
            pte |= (prot & IommuProt.Write) != 0 ? D.S2ApWrite : 0;
            ulong memAttr = (prot & IommuProt.Mmio) != 0 ? D.S2MemAttrDevice : cacheable ? D.S2MemAttrCacheable : D.S2MemAttrNonCacheable;
            pte |= memAttr << D.S2MemAttrShift;
        }
        else
        {
            pte |= D.NotGlobal;
            if ((prot & IommuProt.Write) == 0 && (prot & IommuProt.Read) != 0)
            {
                pte |= D.ApReadOnly;
            }
            else if (HardwareDirty)
            {
                pte |= D.DirtyBitModifier;
            }

            if ((prot & IommuProt.Priv) == 0)
            {
                pte |= D.ApUnprivileged;
            }

            ulong attr = (prot & IommuProt.Mmio) != 0 ? D.AttrIndxDevice : cacheable ? D.AttrIndxCacheable : D.AttrIndxNonCacheable;
            pte |= attr << D.AttrIndxShift;
        }

        if ((prot & IommuProt.NoExec) != 0)
        {
            pte |= D.ExecuteNever | (Stage2 ? 0 : D.PrivilegedExecuteNever);
        }

        return pte;
    }

    /// <summary><c>map_pages</c>: maps <paramref name="pageCount"/> pages of <paramref name="pageSize"/>.</summary>
    /// <param name="iova">First input address, aligned to the page size.</param>
    /// <param name="pa">First output address, aligned to the page size.</param>
    /// <param name="pageSize">One of <see cref="PageSizeBitmap"/>'s sizes.</param>
    /// <param name="pageCount">How many pages.</param>
    /// <param name="prot">The protection.</param>
    /// <param name="mapped">Bytes mapped, also on failure.</param>
    /// <returns>None; EINVAL for a bad size or alignment; ERANGE beyond the input or output size; EEXIST over a mapping; ENOMEM.</returns>
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

        if (pageCount == 0)
        {
            return Errno.None;
        }

        int shift = Granule.LevelShift(leafLevel);
        ulong inputLimit = 1UL << InputBits;
        ulong outputLimit = 1UL << OutputBits;
        if (va >= inputLimit || phys >= outputLimit || pageCount > ((inputLimit - va) >> shift) || pageCount > ((outputLimit - phys) >> shift))
        {
            return Errno.ERANGE;
        }

        if ((prot & (IommuProt.Read | IommuProt.Write)) == 0)
        {
            mapped = pageCount << shift;
            return Errno.None;
        }

        ulong pte = LeafAttributes(prot, leafLevel) | phys;
        ulong remaining = pageCount;
        while (remaining != 0)
        {
            ulong table = LeafTableForMap(va, leafLevel, out Errno error);
            if (error != Errno.None)
            {
                return error;
            }

            int bits = leafLevel == StartLevel ? _startIndexBits : _stride;
            int first = (int)((va >> shift) & ((1UL << bits) - 1));
            int count = (int)Math.Min(remaining, (ulong)((1 << bits) - first));
            int filled = 0;
            while (filled < count)
            {
                // Entries of one table, one 4 KiB page of it at a time.
                ulong entryAddress = table + ((ulong)(first + filled) << 3);
                int inPage = Math.Min(count - filled, (int)((0x1000 - (entryAddress & PageMask4K)) >> 3));
                Span<ulong> run = _memory.TableEntries(new PhysAddr(entryAddress & ~PageMask4K)).Slice((int)((entryAddress & PageMask4K) >> 3), inPage);
                int i = FillRun(run, pte, pageSize);
                pte += (ulong)i * pageSize;
                while (i < run.Length && TryReplaceEmptyTable(run[i], leafLevel))
                {
                    // A block over an emptied table: the table went, the block goes in; then the fast fill resumes.
                    run[i] = pte;
                    pte += pageSize;
                    int more = FillRun(run[(i + 1)..], pte, pageSize);
                    pte += (ulong)more * pageSize;
                    i += 1 + more;
                }

                filled += i;
                if (i != run.Length)
                {
                    mapped += (ulong)filled << shift;
                    return Errno.EEXIST;
                }
            }

            ulong bytes = (ulong)filled << shift;
            mapped += bytes;
            va += bytes;
            remaining -= (ulong)filled;
        }

        return Errno.None;
    }

    /// <summary>
    /// <c>unmap_pages</c>: clears up to <paramref name="pageCount"/> pages of <paramref name="pageSize"/>, recording them
    /// in <paramref name="gather"/> (<c>add_page</c> for the first page of each run, which may sync early through
    /// <paramref name="domain"/>, then <c>add_range</c>). Tables removed by a block-size unmap go on the freelist.
    /// </summary>
    /// <returns>The bytes unmapped: short at a hole, and at a block the request would split (0 when it comes first).</returns>
    public ulong UnmapPages(Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather, IommuDomain domain)
    {
        ThrowIfDestroyed();
        ArgumentNullException.ThrowIfNull(gather);
        ArgumentNullException.ThrowIfNull(domain);
        ulong va = iova.Value;
        ulong inputLimit = 1UL << InputBits;
        if (!TryLeafLevel(pageSize, out int leafLevel) || (va & (pageSize - 1)) != 0 || va >= inputLimit)
        {
            return 0;
        }

        int shift = Granule.LevelShift(leafLevel);
        ulong remaining = Math.Min(pageCount, (inputLimit - va) >> shift);
        ulong unmapped = 0;
        while (remaining != 0)
        {
            ulong table = LeafTableForUnmap(va, leafLevel);
            if (table == 0)
            {
                return unmapped;
            }

            int bits = leafLevel == StartLevel ? _startIndexBits : _stride;
            int first = (int)((va >> shift) & ((1UL << bits) - 1));
            int count = (int)Math.Min(remaining, (ulong)((1 << bits) - first));
            int cleared = 0;
            bool recorded = false;
            while (cleared < count)
            {
                ulong entryAddress = table + ((ulong)(first + cleared) << 3);
                int inPage = Math.Min(count - cleared, (int)((0x1000 - (entryAddress & PageMask4K)) >> 3));
                Span<ulong> run = _memory.TableEntries(new PhysAddr(entryAddress & ~PageMask4K)).Slice((int)((entryAddress & PageMask4K) >> 3), inPage);
                if (!recorded)
                {
                    if ((run[0] & D.Valid) == 0)
                    {
                        return unmapped;
                    }

                    // Record before anything goes on the freelist: an early sync frees the previous range's list.
                    gather.AddPage(domain, new Iova(va), pageSize);
                    recorded = true;
                }

                int i = 0;
                for (; i < run.Length; i++)
                {
                    ulong entry = run[i];
                    if ((entry & D.Valid) == 0)
                    {
                        break;
                    }

                    if (D.IsTable(entry, leafLevel))
                    {
                        ReleaseSubtree(D.Address(entry, Granule), leafLevel + 1, gather);
                    }

                    run[i] = 0;
                }

                cleared += i;
                if (i != run.Length)
                {
                    break;
                }
            }

            ulong bytes = (ulong)cleared << shift;
            if (cleared > 1)
            {
                gather.AddRange(new Iova(va), bytes);
            }

            unmapped += bytes;
            if (cleared != count)
            {
                return unmapped;
            }

            va += bytes;
            remaining -= (ulong)cleared;
        }

        return unmapped;
    }

    /// <summary>Returns the gather's freelist pages to the allocator: call after the invalidation.</summary>
    public void FreeGatheredTables(IotlbGather gather)
    {
        ArgumentNullException.ThrowIfNull(gather);
        foreach (PhysAddr table in gather.Freelist)
        {
            FreeTable(table, Granule.PageSize());
        }

        gather.Freelist.Clear();
    }

    /// <summary><c>iova_to_phys</c>: the software walk.</summary>
    public bool IovaToPhys(Iova iova, out PhysAddr physical)
    {
        ThrowIfDestroyed();
        physical = PhysAddr.Zero;
        ulong va = iova.Value;
        if ((va >> InputBits) != 0)
        {
            return false;
        }

        ulong table = _root.Value;
        for (int level = StartLevel; level <= 3; level++)
        {
            int shift = Granule.LevelShift(level);
            int bits = level == StartLevel ? _startIndexBits : _stride;
            ulong entry = _memory.ReadU64(new PhysAddr(table + (((va >> shift) & ((1UL << bits) - 1)) << 3)));
            if ((entry & D.Valid) == 0)
            {
                return false;
            }

            if (!D.IsTable(entry, level))
            {
                ulong offsetMask = (1UL << shift) - 1;
                physical = new PhysAddr((entry & D.AddressMask & ~offsetMask) | (va & offsetMask));
                return true;
            }

            table = D.Address(entry, Granule);
        }

        return false;
    }

    /// <summary>
    /// <c>read_and_clear_dirty</c> (io-pgtable-arm's walk over <c>[iova, iova + size)</c>): every valid leaf that is
    /// writable-dirty (DBM = 1, AP[2] = 0) is recorded whole — a block reports every page it covers — and, unless
    /// <paramref name="noClear"/>, made writable-clean again by setting AP[2]; the recorded ranges land in the
    /// bitmap's gather for the caller to invalidate. Holes are skipped. EINVAL past the input size or without
    /// <see cref="HardwareDirty"/>.
    /// </summary>
    public Errno ReadAndClearDirty(Iova iova, ulong size, bool noClear, DirtyBitmap dirty)
    {
        ArgumentNullException.ThrowIfNull(dirty);
        ThrowIfDestroyed();
        ulong va = iova.Value;
        if (!HardwareDirty || Stage2 || size == 0 || ((va + (size - 1)) >> InputBits) != 0)
        {
            return Errno.EINVAL;
        }

        ulong end = va + (size - 1); // inclusive: the range may end at the top of the input space
        while (true)
        {
            ulong table = _root.Value;
            ulong next = 0;
            for (int level = StartLevel; level <= 3; level++)
            {
                int shift = Granule.LevelShift(level);
                int bits = level == StartLevel ? _startIndexBits : _stride;
                var slot = new PhysAddr(table + (((va >> shift) & ((1UL << bits) - 1)) << 3));
                ulong entry = _memory.ReadU64(slot);
                ulong span = 1UL << shift;
                next = (va & ~(span - 1)) + span;
                if ((entry & D.Valid) == 0)
                {
                    break;
                }

                if (!D.IsTable(entry, level))
                {
                    if ((entry & (D.DirtyBitModifier | D.ApReadOnly)) == D.DirtyBitModifier)
                    {
                        dirty.Record(new Iova(va & ~(span - 1)), span);
                        if (!noClear)
                        {
                            _memory.WriteU64(slot, entry | D.ApReadOnly);
                        }
                    }

                    break;
                }

                table = D.Address(entry, Granule);
            }

            if (next == 0 || next - 1 >= end)
            {
                return Errno.None;
            }

            va = next;
        }
    }

    /// <summary>The descriptor for <paramref name="iova"/> at each level from the start level down, for dumps; stops after a leaf or invalid entry.</summary>
    public int ReadWalk(Iova iova, Span<ulong> descriptors)
    {
        ThrowIfDestroyed();
        int n = 0;
        ulong table = _root.Value;
        for (int level = StartLevel; level <= 3 && n < descriptors.Length; level++)
        {
            int shift = Granule.LevelShift(level);
            int bits = level == StartLevel ? _startIndexBits : _stride;
            ulong entry = _memory.ReadU64(new PhysAddr(table + (((iova.Value >> shift) & ((1UL << bits) - 1)) << 3)));
            descriptors[n++] = entry;
            if ((entry & D.Valid) == 0 || !D.IsTable(entry, level))
            {
                break;
            }

            table = D.Address(entry, Granule);
        }

        return n;
    }

    /// <summary><c>free</c>: returns every linked table, the start table included. Idempotent.</summary>
    public void Destroy()
    {
        if (IsDestroyed)
        {
            return;
        }

        FreeTree(_root.Value, StartLevel);
        FreeTable(_root, _rootBytes);
        _root = PhysAddr.Zero;
        _fingerLevel = -1;
    }

    // Writes consecutive leaves until the run ends or an entry is valid; returns how many were written.
    private static int FillRun(Span<ulong> run, ulong pte, ulong step)
    {
        int i = 0;
        while (i < run.Length)
        {
            if ((run[i] & D.Valid) != 0)
            {
                break;
            }

            run[i] = pte;
            pte += step;
            i++;
        }

        return i;
    }

    private bool TryLeafLevel(ulong pageSize, out int leafLevel)
    {
        for (int level = 3; level >= 1; level--)
        {
            if (pageSize == 1UL << Granule.LevelShift(level))
            {
                leafLevel = level;
                return Granule.AllowsLeaf(level) && level >= StartLevel;
            }
        }

        leafLevel = 0;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FingerCovers(ulong va, int leafLevel) =>
        _fingerLevel == leafLevel && (leafLevel == StartLevel || (va >> Granule.LevelShift(leafLevel - 1)) == _fingerBase);

    private void SetFinger(ulong va, int leafLevel, ulong table)
    {
        _fingerLevel = leafLevel;
        _fingerTable = table;
        _fingerBase = leafLevel == StartLevel ? 0 : va >> Granule.LevelShift(leafLevel - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong EntryRef(ulong table, ulong index)
    {
        ulong address = table + (index << 3);
        return ref _memory.TableEntries(new PhysAddr(address & ~PageMask4K))[(int)((address & PageMask4K) >> 3)];
    }

    // The table holding va's level-`leafLevel` entries, creating missing tables; 0 with EEXIST at a block above.
    private ulong LeafTableForMap(ulong va, int leafLevel, out Errno error)
    {
        error = Errno.None;
        if (FingerCovers(va, leafLevel))
        {
            return _fingerTable;
        }

        ulong table = _root.Value;
        for (int level = StartLevel; level < leafLevel; level++)
        {
            int bits = level == StartLevel ? _startIndexBits : _stride;
            ref ulong entry = ref EntryRef(table, (va >> Granule.LevelShift(level)) & ((1UL << bits) - 1));
            if ((entry & D.Valid) == 0)
            {
                PhysAddr? fresh = AllocateTable(Granule.PageSize());
                if (fresh is null)
                {
                    error = Errno.ENOMEM;
                    return 0;
                }

                entry = D.EncodeTable(fresh.Value);
            }
            else if (!D.IsTable(entry, level))
            {
                error = Errno.EEXIST;
                return 0;
            }

            table = D.Address(entry, Granule);
        }

        SetFinger(va, leafLevel, table);
        return table;
    }

    // The table holding va's level-`leafLevel` entries; 0 at a hole or at a block above (never split).
    private ulong LeafTableForUnmap(ulong va, int leafLevel)
    {
        if (FingerCovers(va, leafLevel))
        {
            return _fingerTable;
        }

        ulong table = _root.Value;
        for (int level = StartLevel; level < leafLevel; level++)
        {
            int bits = level == StartLevel ? _startIndexBits : _stride;
            ulong entry = EntryRef(table, (va >> Granule.LevelShift(level)) & ((1UL << bits) - 1));
            if ((entry & D.Valid) == 0 || !D.IsTable(entry, level))
            {
                return 0;
            }

            table = D.Address(entry, Granule);
        }

        SetFinger(va, leafLevel, table);
        return table;
    }

    // A block map meets a table: io-pgtable-arm unmaps it first. Here an empty subtree is freed and replaced; a
    // populated one is EEXIST (the core only maps over what it unmapped).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReplaceEmptyTable(ulong entry, int level)
    {
        if (!D.IsTable(entry, level))
        {
            return false;
        }

        ulong table = D.Address(entry, Granule);
        if (!SubtreeEmpty(table, level + 1))
        {
            return false;
        }

        FreeTree(table, level + 1);
        FreeTable(new PhysAddr(table), Granule.PageSize());
        _fingerLevel = -1;
        return true;
    }

    private bool SubtreeEmpty(ulong table, int level)
    {
        ulong entries = 1UL << _stride;
        for (ulong i = 0; i < entries; i++)
        {
            ulong entry = EntryRef(table, i);
            if ((entry & D.Valid) == 0)
            {
                continue;
            }

            if (!D.IsTable(entry, level) || !SubtreeEmpty(D.Address(entry, Granule), level + 1))
            {
                return false;
            }
        }

        return true;
    }

    private void ReleaseSubtree(ulong table, int level, IotlbGather gather)
    {
        // Tables below go too: every table of the subtree waits on the freelist for the invalidation.
        if (level < 3)
        {
            ulong entries = 1UL << _stride;
            for (ulong i = 0; i < entries; i++)
            {
                ulong entry = EntryRef(table, i);
                if ((entry & D.Valid) != 0 && D.IsTable(entry, level))
                {
                    ReleaseSubtree(D.Address(entry, Granule), level + 1, gather);
                }
            }
        }

        gather.Freelist.Add(new PhysAddr(table));
        _fingerLevel = -1;
    }

    private void FreeTree(ulong table, int level)
    {
        if (level >= 3)
        {
            return;
        }

        ulong entries = level == StartLevel ? 1UL << _startIndexBits : 1UL << _stride;
        for (ulong i = 0; i < entries; i++)
        {
            ulong entry = EntryRef(table, i);
            if ((entry & D.Valid) != 0 && D.IsTable(entry, level))
            {
                ulong next = D.Address(entry, Granule);
                FreeTree(next, level + 1);
                FreeTable(new PhysAddr(next), Granule.PageSize());
            }
        }
    }

    private PhysAddr? AllocateTable(ulong bytes)
    {
        ulong frames = bytes >> 12;
        try
        {
            if (frames == 1)
            {
                PhysAddr page = _memory.Frames.AllocateZeroed();
                _tablePages++;
                return page;
            }
        }
        catch (IoasidException e) when (e.Errno == Errno.ENOMEM)
        {
            return null;
        }

        if (!_memory.Frames.TryAllocateContiguous(frames, bytes, out PhysAddr first))
        {
            return null;
        }

        _tablePages += (long)frames;
        return first;
    }

    private void FreeTable(PhysAddr table, ulong bytes)
    {
        ulong frames = Math.Max(1, bytes >> 12);
        _memory.Frames.FreeContiguous(table, frames);
        _tablePages -= (long)frames;
    }

    private void ThrowIfDestroyed()
    {
        if (_root.Value == 0)
        {
            throw new ObjectDisposedException(nameof(ArmLpaePageTable), "The page table has been destroyed.");
        }
    }
}
