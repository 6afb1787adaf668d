using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ioasid.Core.Platform;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Hardware.Mock;

/// <summary>
/// The mock IOMMU as hardware: a context table of its own (RID → entry, (RID, PASID) → entry), a walker of
/// <see cref="Drivers.Mock.MockPteFormat"/> tables in <see cref="PhysicalMemory"/>, an <see cref="Iotlb"/>, a bounded
/// <see cref="FaultLog{TRecord}"/> and an opt-in <see cref="StaleTranslationChecker"/>. It never calls driver code:
/// the driver programs it through register-like methods (<see cref="SetRidEntry"/>, <see cref="SetPasidEntry"/>,
/// <see cref="ClearEntry(Rid)"/>) and invalidation commands (<see cref="InvalidateAll"/>,
/// <see cref="InvalidateTag"/>, <see cref="InvalidateRange"/>), and devices reach memory through
/// <see cref="Translate"/> and <see cref="Dma"/>.
/// </summary>
/// <remarks>
/// <para>
/// Context entries take effect at once (no context cache). Translated entries fill the IOTLB after a successful walk;
/// faults are never cached, so a fresh map needs no invalidation; an unmap does. Identity entries bypass the IOTLB.
/// A cached translation is used as it is until invalidated: with <see cref="StaleChecker"/> enabled every hit is
/// also compared with a fresh walk and a mismatch reported.
/// </para>
/// <para>
/// Every fault is recorded in <see cref="Faults"/> (dropped with the overflow flag set when the log is full) and
/// returned to the caller. The IOTLB hit path allocates nothing.
/// </para>
/// <para>Not thread-safe: DMA and programming are serialised by the caller, as one hardware queue would.</para>
/// </remarks>
public sealed class MockIommuHardware : IDmaTranslator
{
    /// <summary>The default IOTLB capacity: 1024 entries (QEMU VT-d's).</summary>
    public const int DefaultIotlbCapacity = 1024;

    /// <summary>The default fault log capacity: 64 records.</summary>
    public const int DefaultFaultLogCapacity = 64;

    // IOTLB vendor data: the leaf entry's address (8-byte aligned) with this bit once the hardware has set its D.
    private const ulong DirtyRecorded = 1;

    // Context keys: (RID, PASID) pairs fit in 52 bits; RID-only keys have bit 62 set; NoKey is no key at all.
    private const ulong NoKey = ulong.MaxValue;

    private readonly PhysicalMemory _memory;
    private readonly Dictionary<uint, MockContextEntry> _ridEntries = new();
    private readonly Dictionary<ulong, MockContextEntry> _pasidEntries = new();

    // A one-entry context cache (the last requester looked up), dropped by every context-table write. It is a pure
    // speed-up: entries take effect at once, as documented.
    private ulong _lastKey = NoKey;
    private MockContextEntry _lastEntry;

    /// <summary>Creates the hardware over <paramref name="memory"/> with an empty context table.</summary>
    /// <param name="memory">The machine's physical memory, where tables and DMA targets live.</param>
    /// <param name="iotlbCapacity">IOTLB entries held at most.</param>
    /// <param name="faultLogCapacity">Fault records held at most.</param>
    public MockIommuHardware(PhysicalMemory memory, int iotlbCapacity = DefaultIotlbCapacity, int faultLogCapacity = DefaultFaultLogCapacity)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        Iotlb = new Iotlb(iotlbCapacity, [F.PageShift4K, F.PageShift2M]);
        Faults = new FaultLog<FaultRecord>(faultLogCapacity);
    }

    /// <summary>The physical memory the hardware reads tables from and moves DMA data to and from.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>The IOTLB, tagged by the context entries' <see cref="MockContextEntry.Tag"/>.</summary>
    public Iotlb Iotlb { get; }

    /// <summary>The fault log.</summary>
    public FaultLog<FaultRecord> Faults { get; }

    /// <summary>The stale-translation checker; disabled until <see cref="StaleTranslationChecker.Enabled"/> is set.</summary>
    public StaleTranslationChecker StaleChecker { get; } = new();

    /// <summary>Translations requested (one per page of a DMA).</summary>
    public long Translations { get; private set; }

    /// <summary>Table walks done on IOTLB misses (the stale checker's walks are not counted).</summary>
    public long Walks { get; private set; }

    /// <summary>Faults raised, recorded or dropped.</summary>
    public long FaultCount { get; private set; }

    /// <summary>Programs the entry for DMA from <paramref name="rid"/> without PASID.</summary>
    public void SetRidEntry(Rid rid, MockContextEntry entry)
    {
        RequireValid(entry);
        _lastKey = NoKey;
        _ridEntries[rid.Value] = entry;
    }

    /// <summary>Programs the entry for DMA from <paramref name="rid"/> with <paramref name="pasid"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pasid"/> is 0 (IOMMU_NO_PASID: that is the RID entry).</exception>
    public void SetPasidEntry(Rid rid, Pasid pasid, MockContextEntry entry)
    {
        if (pasid.IsNoPasid)
        {
            throw new ArgumentOutOfRangeException(nameof(pasid), pasid, "PASID 0 is IOMMU_NO_PASID: program the RID entry instead.");
        }

        RequireValid(entry);
        _lastKey = NoKey;
        _pasidEntries[PasidKey(rid, pasid)] = entry;
    }

    /// <summary>Removes the RID entry of <paramref name="rid"/>: its DMA without PASID then faults with <see cref="FaultReason.NoEntry"/>.</summary>
    /// <returns>Whether there was an entry.</returns>
    public bool ClearEntry(Rid rid)
    {
        _lastKey = NoKey;
        return _ridEntries.Remove(rid.Value);
    }

    /// <summary>Removes the entry of (<paramref name="rid"/>, <paramref name="pasid"/>).</summary>
    /// <returns>Whether there was an entry.</returns>
    public bool ClearEntry(Rid rid, Pasid pasid)
    {
        _lastKey = NoKey;
        return _pasidEntries.Remove(PasidKey(rid, pasid));
    }

    /// <summary>Reads back the entry a request from <paramref name="rid"/> (with <paramref name="pasid"/>, if given) would use.</summary>
    public bool TryGetEntry(Rid rid, Pasid? pasid, out MockContextEntry entry) =>
        pasid is { } p ? _pasidEntries.TryGetValue(PasidKey(rid, p), out entry) : _ridEntries.TryGetValue(rid.Value, out entry);

    /// <summary>Invalidation command: drops the whole IOTLB.</summary>
    public void InvalidateAll() => Iotlb.InvalidateAll();

    /// <summary>Invalidation command: drops every IOTLB entry tagged <paramref name="tag"/>.</summary>
    public void InvalidateTag(ulong tag) => Iotlb.InvalidateTag(tag);

    /// <summary>Invalidation command: drops the entries tagged <paramref name="tag"/> overlapping [<paramref name="iova"/>, +<paramref name="size"/>).</summary>
    public void InvalidateRange(ulong tag, Iova iova, ulong size) => Iotlb.InvalidateRange(tag, ulong.MaxValue, iova, size);

    /// <summary>
    /// Translates the page holding <paramref name="request"/>'s first byte for its access: through the IOTLB, walking
    /// the tables on a miss. Faults are recorded in <see cref="Faults"/>. The request's length is not used; the result
    /// says how many bytes are contiguous from the translated address.
    /// </summary>
    /// <exception cref="ArgumentException">The request's access is <see cref="DmaAccess.None"/>.</exception>
    public TranslationResult Translate(in DmaRequest request)
    {
        if (request.Access == DmaAccess.None)
        {
            throw new ArgumentException("A DMA must read, write or both.", nameof(request));
        }

        Translations++;
        ulong key = request.Pasid is { } pasid ? PasidKey(request.Rid, pasid) : RidKey(request.Rid);
        MockContextEntry entry;
        if (key == _lastKey)
        {
            entry = _lastEntry;
        }
        else
        {
            bool found = request.Pasid is { } p
                ? _pasidEntries.TryGetValue(PasidKey(request.Rid, p), out entry)
                : _ridEntries.TryGetValue(request.Rid.Value, out entry);
            if (!found)
            {
                return Fault(request, FaultReason.NoEntry, request.Pasid is null ? MockFaultCode.NoRidEntry : MockFaultCode.NoPasidEntry);
            }

            _lastKey = key;
            _lastEntry = entry;
        }

        ulong va = request.Iova.Value;
        switch (entry.Mode)
        {
            case MockContextMode.Translate:
                return TranslateThroughTables(request, entry);
            case MockContextMode.Identity:
                ulong length = F.PageSize4K - (va & (F.PageSize4K - 1));
                return _memory.Contains(new PhysAddr(va), length)
                    ? TranslationResult.Translated(new PhysAddr(va), length, iotlbHit: false)
                    : Fault(request, FaultReason.ExternalAbort, MockFaultCode.ExternalAbort);
            default:
                return Fault(request, FaultReason.Blocked, MockFaultCode.Blocked);
        }
    }

    /// <summary>
    /// Performs <paramref name="request"/> on physical memory: a read fills <paramref name="buffer"/> from memory, a
    /// write copies it to memory. Each page is translated on its own and is its own transaction, so a fault stops the
    /// DMA after the pages before it were transferred.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer length differs from the request's, or the access is not exactly read or write.</exception>
    public DmaResult Dma(in DmaRequest request, Span<byte> buffer) => DmaEngine.Transfer(this, request, buffer);

    /// <summary>A walk of the tables at <paramref name="root"/> for <paramref name="iova"/>, bypassing the IOTLB and recording nothing.</summary>
    /// <returns>The fault the walk would raise, or <see cref="FaultReason.None"/> with the leaf translation.</returns>
    public FaultReason Walk(PhysAddr root, Iova iova, out Translation translation, out MockFaultCode code) =>
        Walk(root, iova, out translation, out code, out _);

    // The walk, also giving the address of the leaf entry (where a write sets D).
    private FaultReason Walk(PhysAddr root, Iova iova, out Translation translation, out MockFaultCode code, out ulong leafAddress)
    {
        ulong va = iova.Value;
        leafAddress = 0;
        translation = default;
        if (va >= F.InputLimit)
        {
            code = MockFaultCode.AddressSize;
            return FaultReason.AddressSize;
        }

        PhysicalMemory memory = _memory;
        ulong size = memory.Size;
        ulong table = root.Value;
        ulong permissions = F.Read | F.Write;
        int level = F.RootLevel;
        int shift = F.LevelShift(F.RootLevel);
        ulong pte;
        while (true)
        {
            if (table >= size)
            {
                code = MockFaultCode.ExternalAbort;
                return FaultReason.ExternalAbort;
            }

            leafAddress = table + (((va >> shift) & F.IndexMask) << 3);
            pte = memory.ReadU64(new PhysAddr(leafAddress));
            permissions &= pte;

            // Fast path: present, well formed, no PS. A table above level 1, a 4 KiB leaf at level 1.
            if ((pte & (F.Present | F.ReservedLowMask | F.PageSizeBit)) == F.Present)
            {
                if (level == 1)
                {
                    break;
                }

                table = pte & F.AddressMask;
                level--;
                shift -= F.IndexBits;
                continue;
            }

            if ((pte & F.Present) == 0)
            {
                code = (MockFaultCode)((uint)MockFaultCode.NotPresentLevel1 + (uint)(level - 1));
                return FaultReason.Translation;
            }

            if (F.IsMalformed(pte, level))
            {
                code = MockFaultCode.InvalidEntry;
                return FaultReason.InvalidEntry;
            }

            break; // a well-formed 2 MiB leaf at level 2
        }

        ulong offsetMask = (1UL << shift) - 1;
        var allowed = (DmaAccess)((permissions & (F.Read | F.Write)) >> 1); // R (bit 1) -> Read, W (bit 2) -> Write
        translation = new Translation(new Iova(va & ~offsetMask), new PhysAddr(pte & F.AddressMask & ~offsetMask), shift, allowed);
        code = MockFaultCode.None;
        return FaultReason.None;
    }

    private static ulong PasidKey(Rid rid, Pasid pasid) => ((ulong)rid.Value << Pasid.Bits) | pasid.Value;

    private static ulong RidKey(Rid rid) => (1UL << 62) | rid.Value;

    private static void RequireValid(MockContextEntry entry)
    {
        if (entry.Mode > MockContextMode.Translate)
        {
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Mode, "Unknown context entry mode.");
        }

        if (entry.Mode == MockContextMode.Translate && !entry.Root.IsPageAligned)
        {
            throw new ArgumentException($"The root {entry.Root} of a translating entry must be 4 KiB aligned.", nameof(entry));
        }
    }

    // Out of line: the checker's walker holds a reference, and such a struct in the translate frame would be zeroed by
    // the prolog on every translation, checked or not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckStale(in DmaRequest request, in MockContextEntry entry, in Translation translation)
    {
        var walker = new TableWalker(this, entry.Root);
        StaleChecker.Check(request, entry.Tag, translation, ref walker);
    }

    private TranslationResult TranslateThroughTables(in DmaRequest request, in MockContextEntry entry)
    {
        Iova iova = request.Iova;
        if (iova.Value >= F.InputLimit)
        {
            return Fault(request, FaultReason.AddressSize, MockFaultCode.AddressSize);
        }

        // leaf: the leaf entry's address | DirtyRecorded
        bool hit = Iotlb.TryLookup(entry.Tag, iova.Value, out Translation translation, out ulong leaf);
        if (hit)
        {
            if (StaleChecker.Enabled)
            {
                CheckStale(request, entry, translation);
            }
        }
        else
        {
            Walks++;
            FaultReason reason = Walk(entry.Root, iova, out translation, out MockFaultCode code, out leaf);
            if (reason != FaultReason.None)
            {
                return Fault(request, reason, code);
            }

            Iotlb.Insert(entry.Tag, translation, leaf);
        }

        if (!translation.Allows(request.Access))
        {
            return Fault(request, FaultReason.Permission, MockFaultCode.Permission);
        }

        // Dirty logging: the first write through an entry whose cached copy has not yet set D sets it in memory and
        // remembers that in the IOTLB, so later writes cost nothing (a cleared D is seen again after invalidation).
        if (entry.DirtyTracking && (request.Access & DmaAccess.Write) != 0 && (leaf & DirtyRecorded) == 0)
        {
            var pte = new PhysAddr(leaf);
            _memory.WriteU64(pte, _memory.ReadU64(pte) | F.Dirty);
            Iotlb.Insert(entry.Tag, translation, leaf | DirtyRecorded);
        }

        PhysAddr output = translation.OutputFor(iova);
        ulong length = translation.RemainingFrom(iova);
        if (!_memory.Contains(output, length))
        {
            return Fault(request, FaultReason.ExternalAbort, MockFaultCode.ExternalAbort);
        }

        return TranslationResult.Translated(output, length, hit);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult Fault(in DmaRequest request, FaultReason reason, MockFaultCode code)
    {
        FaultCount++;
        if (Faults.IsFull)
        {
            Faults.RecordDropped();
        }
        else
        {
            Faults.TryRecord(new FaultRecord(request.Rid, request.Pasid, request.Iova, request.Access, reason, (uint)code));
        }

        return TranslationResult.Faulted(reason, (uint)code);
    }

    private readonly struct TableWalker(MockIommuHardware hardware, PhysAddr root) : ITranslationWalker
    {
        public bool TryWalk(Iova iova, out Translation translation) =>
            hardware.Walk(root, iova, out translation, out _) == FaultReason.None;
    }
}
