using Ioasid;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using TinyIommu.Format;

namespace TinyIommu.Driver;

/// <summary>
/// The driver's side of a tiny-iommu page table (<see cref="TinyPte"/>): map, unmap, software walk and teardown over
/// table pages taken from the machine's frame allocator. A table emptied by an unmap is unlinked and put on the
/// gather's freelist; it goes back to the allocator only after the IOTLB invalidation (<see cref="FreeGatheredTables"/>),
/// because the hardware may still be walking it until then. The root lives until <see cref="Destroy"/>.
/// </summary>
internal sealed class TinyPageTable
{
    private readonly PhysicalMemory _memory;

    public TinyPageTable(PhysicalMemory memory)
    {
        _memory = memory;
        Root = memory.Frames.AllocateZeroed();
        TablePages = 1;
    }

    /// <summary>The root (level-3) table, what the device table entry points at.</summary>
    public PhysAddr Root { get; private set; }

    /// <summary>Table pages allocated and not yet given back.</summary>
    public long TablePages { get; private set; }

    /// <summary><c>map_pages</c> for 4 KiB pages. EEXIST when an entry is already present (the pages before it stay mapped).</summary>
    public Errno Map(Iova iova, PhysAddr physical, ulong pageCount, IommuProt prot, out ulong mapped)
    {
        mapped = 0;
        bool read = (prot & IommuProt.Read) != 0;
        bool write = (prot & IommuProt.Write) != 0;
        if (!iova.IsPageAligned || !physical.IsPageAligned || !(read || write))
        {
            return Errno.EINVAL;
        }

        ulong va = iova.Value;
        if (pageCount > (1UL << (TinyPte.InputBits - TinyPte.PageShift)) || ((va >> TinyPte.PageShift) + pageCount) > (1UL << (TinyPte.InputBits - TinyPte.PageShift)))
        {
            return Errno.ERANGE;
        }

        for (ulong i = 0; i < pageCount; i++, va += TinyPte.PageSize)
        {
            if (!TryWalkToLeafTable(va, allocate: true, out PhysAddr leafTable, out Errno error))
            {
                return error;
            }

            Span<ulong> entries = _memory.TableEntries(leafTable);
            int index = TinyPte.Index(va, 1);
            if (new TinyPte(entries[index]).IsPresent)
            {
                return Errno.EEXIST;
            }

            entries[index] = TinyPte.Page(physical + (i * TinyPte.PageSize), read, write).Raw;
            mapped += TinyPte.PageSize;
        }

        return Errno.None;
    }

    /// <summary>
    /// <c>unmap_pages</c> for 4 KiB pages: clears up to <paramref name="pageCount"/> leaves from <paramref name="iova"/>,
    /// stopping at the first hole, records the range in <paramref name="gather"/> and queues emptied tables on its freelist.
    /// </summary>
    public ulong Unmap(Iova iova, ulong pageCount, IotlbGather gather, IommuDomain domain)
    {
        ulong va = iova.Value;
        ulong unmapped = 0;
        for (ulong i = 0; i < pageCount; i++, va += TinyPte.PageSize)
        {
            if (!TryWalkToLeafTable(va, allocate: false, out PhysAddr leafTable, out _))
            {
                break;
            }

            Span<ulong> entries = _memory.TableEntries(leafTable);
            int index = TinyPte.Index(va, 1);
            if (!new TinyPte(entries[index]).IsPresent)
            {
                break;
            }

            // Record the page first: an early sync inside AddPage frees the freelist of the range gathered before.
            if (unmapped == 0)
            {
                gather.AddPage(domain, new Iova(va), TinyPte.PageSize);
            }
            else
            {
                gather.AddRange(new Iova(va), TinyPte.PageSize);
            }

            entries[index] = 0;
            unmapped += TinyPte.PageSize;
            ReleaseEmptyTables(va, gather);
        }

        return unmapped;
    }

    /// <summary>Returns the tables queued on <paramref name="gather"/>'s freelist to the allocator: only after invalidation.</summary>
    public void FreeGatheredTables(IotlbGather gather)
    {
        foreach (PhysAddr page in gather.Freelist)
        {
            _memory.Frames.Free(page);
        }

        TablePages -= gather.Freelist.Count;
        gather.Freelist.Clear();
    }

    /// <summary><c>iova_to_phys</c>: the software walk.</summary>
    public bool IovaToPhys(Iova iova, out PhysAddr physical)
    {
        physical = PhysAddr.Zero;
        if (!TryWalkToLeafTable(iova.Value, allocate: false, out PhysAddr leafTable, out _))
        {
            return false;
        }

        var pte = new TinyPte(_memory.ReadU64(leafTable + ((ulong)TinyPte.Index(iova.Value, 1) * sizeof(ulong))));
        if (!pte.IsPresent)
        {
            return false;
        }

        physical = pte.Address + iova.PageOffset;
        return true;
    }

    /// <summary><c>free</c>: gives every table page back, the root included.</summary>
    public void Destroy()
    {
        if (Root.Value != 0)
        {
            FreeTree(Root, TinyPte.Levels);
            Root = PhysAddr.Zero;
        }
    }

    private bool TryWalkToLeafTable(ulong va, bool allocate, out PhysAddr leafTable, out Errno error)
    {
        error = Errno.None;
        leafTable = Root;
        if (va >> TinyPte.InputBits != 0)
        {
            error = Errno.ERANGE;
            return false;
        }

        for (int level = TinyPte.Levels; level > 1; level--)
        {
            ref ulong slot = ref _memory.TableEntries(leafTable)[TinyPte.Index(va, level)];
            var pte = new TinyPte(slot);
            if (!pte.IsPresent)
            {
                if (!allocate)
                {
                    return false;
                }

                PhysAddr fresh = _memory.Frames.AllocateZeroed(); // throws ENOMEM when memory is exhausted
                TablePages++;
                slot = TinyPte.Table(fresh, level - 1).Raw;
                pte = new TinyPte(slot);
            }

            leafTable = pte.Address;
        }

        return true;
    }

    // After a leaf is cleared: unlink its level-1 table if now empty, then the level-2 table above it if that empties.
    private void ReleaseEmptyTables(ulong va, IotlbGather gather)
    {
        Span<PhysAddr> path = stackalloc PhysAddr[TinyPte.Levels + 1];
        path[TinyPte.Levels] = Root;
        for (int level = TinyPte.Levels; level > 1; level--)
        {
            path[level - 1] = new TinyPte(_memory.ReadU64(path[level] + ((ulong)TinyPte.Index(va, level) * sizeof(ulong)))).Address;
        }

        for (int level = 1; level < TinyPte.Levels; level++)
        {
            if (!_memory.ReadTableEntries(path[level]).ContainsAnyExcept(0UL))
            {
                _memory.TableEntries(path[level + 1])[TinyPte.Index(va, level + 1)] = 0;
                gather.Freelist.Add(path[level]);
            }
            else
            {
                return;
            }
        }
    }

    private void FreeTree(PhysAddr table, int level)
    {
        if (level > 1)
        {
            foreach (ulong raw in _memory.ReadTableEntries(table))
            {
                var pte = new TinyPte(raw);
                if (pte.IsPresent)
                {
                    FreeTree(pte.Address, level - 1);
                }
            }
        }

        _memory.Frames.Free(table);
        TablePages--;
    }
}
