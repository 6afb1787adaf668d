using Ioasid;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using TinyIommu.Format;

namespace TinyIommu.Hardware;

/// <summary>The tiny-iommu hardware's own fault codes (<see cref="FaultRecord.VendorCode"/>).</summary>
public enum TinyFaultCode : uint
{
    /// <summary>No fault.</summary>
    None = 0,

    /// <summary>The device table entry has V = 0.</summary>
    InvalidDeviceEntry = 1,

    /// <summary>V = 1, TV = 0: the device is blocked.</summary>
    Blocked = 2,

    /// <summary>The request carries a PASID; this IOMMU translates requests without PASID only.</summary>
    PasidUnsupported = 3,

    /// <summary>The IOVA does not fit in 39 bits.</summary>
    AddressSize = 4,

    /// <summary>An entry on the walk is not present.</summary>
    NotPresent = 5,

    /// <summary>The page does not allow the access.</summary>
    Permission = 6,

    /// <summary>An entry on the walk has reserved bits or a wrong next level; or the device entry's mode is unsupported.</summary>
    IllegalEntry = 7,

    /// <summary>A table or the output page lies outside physical memory.</summary>
    ExternalAbort = 8,
}

/// <summary>
/// The tiny-iommu hardware model. It knows nothing about the driver: it reads its device table and the I/O page
/// tables from <see cref="PhysicalMemory"/> at the addresses the driver programmed, caches device entries and
/// translations (the IOTLB, tagged by domain id), and forgets them only when sent an invalidation command, just as
/// hardware does. A driver that changes tables without invalidating is caught by <see cref="StaleChecker"/>.
/// </summary>
public sealed class TinyIommuHardware
{
    private readonly PhysicalMemory _memory;
    private readonly Dictionary<ushort, DeviceTableEntry> _deviceEntryCache = new();
    private PhysAddr _deviceTableBase;

    /// <summary>Creates the hardware over <paramref name="memory"/>, with translation disabled until the device table base is set.</summary>
    public TinyIommuHardware(PhysicalMemory memory, int iotlbEntries = 256)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        Iotlb = new Iotlb(iotlbEntries, [TinyPte.PageShift]);
    }

    /// <summary>The IOTLB: 4 KiB translations tagged with the domain id.</summary>
    public Iotlb Iotlb { get; }

    /// <summary>The fault log the driver would read from its event queue.</summary>
    public FaultLog<FaultRecord> Faults { get; } = new(64);

    /// <summary>Compares every IOTLB hit with a fresh walk when enabled (a missed invalidation shows up here).</summary>
    public StaleTranslationChecker StaleChecker { get; } = new();

    /// <summary>Table walks done (IOTLB misses that reached the tables).</summary>
    public long Walks { get; private set; }

    /// <summary>Register write: the device table's base. Drops every cached device entry.</summary>
    public void SetDeviceTableBase(PhysAddr table)
    {
        if (!table.IsPageAligned)
        {
            throw new ArgumentException($"The device table base {table} must be 4 KiB aligned.", nameof(table));
        }

        _deviceTableBase = table;
        _deviceEntryCache.Clear();
    }

    /// <summary>Command: forget the cached device entry of <paramref name="rid"/> (re-read from memory on next use).</summary>
    public void InvalidateDeviceEntry(Rid rid) => _deviceEntryCache.Remove(rid.Bdf);

    /// <summary>Command: drop the IOTLB entries of <paramref name="domainId"/> that overlap [<paramref name="iova"/>, +<paramref name="size"/>).</summary>
    public void InvalidatePages(ushort domainId, Iova iova, ulong size) => Iotlb.InvalidateRange(domainId, ulong.MaxValue, iova, size);

    /// <summary>Command: drop every IOTLB entry of <paramref name="domainId"/>.</summary>
    public void InvalidateDomain(ushort domainId) => Iotlb.InvalidateTag(domainId);

    /// <summary>
    /// Performs a device's DMA: each page is translated on its own and is its own transaction, so a fault stops the
    /// transfer after the pages before it were done. A read fills <paramref name="buffer"/>, a write stores it.
    /// </summary>
    public DmaResult Dma(in DmaRequest request, Span<byte> buffer)
    {
        if ((ulong)buffer.Length != request.Length)
        {
            throw new ArgumentException($"The buffer holds {buffer.Length} bytes; the request is for {request.Length}.", nameof(buffer));
        }

        ulong done = 0;
        while (done < request.Length)
        {
            DmaRequest page = request with { Iova = request.Iova + done, Length = request.Length - done };
            TranslationResult result = Translate(page);
            if (!result.IsSuccess)
            {
                return DmaResult.Faulted(done, page.Iova, result.Fault, result.VendorCode);
            }

            int chunk = (int)Math.Min(result.Length, request.Length - done);
            Span<byte> data = buffer.Slice((int)done, chunk);
            if (request.Access == DmaAccess.Read)
            {
                _memory.Read(result.Address, data);
            }
            else
            {
                _memory.Write(result.Address, data);
            }

            done += (ulong)chunk;
        }

        return DmaResult.Completed(done);
    }

    /// <summary>Translates the page holding the request's first byte: device entry, then IOTLB, then a table walk.</summary>
    public TranslationResult Translate(in DmaRequest request)
    {
        if (request.Pasid is not null)
        {
            return Fault(request, FaultReason.NoEntry, TinyFaultCode.PasidUnsupported);
        }

        DeviceTableEntry entry = ReadDeviceEntry(request.Rid);
        if (!entry.IsValid)
        {
            return Fault(request, FaultReason.NoEntry, TinyFaultCode.InvalidDeviceEntry);
        }

        if (!entry.Translates)
        {
            return Fault(request, FaultReason.Blocked, TinyFaultCode.Blocked);
        }

        if (entry.Mode != TinyPte.Levels)
        {
            return Fault(request, FaultReason.InvalidEntry, TinyFaultCode.IllegalEntry);
        }

        Iova iova = request.Iova;
        Translation translation;
        bool hit = Iotlb.TryLookup(entry.DomainId, iova, out IotlbEntry cached);
        if (hit)
        {
            translation = cached.Translation;
            if (StaleChecker.Enabled)
            {
                var walker = new Walker(this, entry.Root);
                StaleChecker.Check(request, entry.DomainId, translation, ref walker);
            }
        }
        else
        {
            Walks++;
            TinyFaultCode code = Walk(entry.Root, iova, out translation);
            if (code != TinyFaultCode.None)
            {
                return Fault(request, ReasonFor(code), code);
            }

            Iotlb.Insert(new IotlbEntry(entry.DomainId, translation));
        }

        if (!translation.Allows(request.Access))
        {
            return Fault(request, FaultReason.Permission, TinyFaultCode.Permission);
        }

        PhysAddr output = translation.OutputFor(iova);
        ulong length = TinyPte.PageSize - iova.PageOffset;
        return _memory.Contains(output, length)
            ? TranslationResult.Translated(output, length, hit)
            : Fault(request, FaultReason.ExternalAbort, TinyFaultCode.ExternalAbort);
    }

    /// <summary>A walk of the tables at <paramref name="root"/> that bypasses the IOTLB and records nothing.</summary>
    public TinyFaultCode Walk(PhysAddr root, Iova iova, out Translation translation)
    {
        translation = default;
        ulong va = iova.Value;
        if (va >> TinyPte.InputBits != 0)
        {
            return TinyFaultCode.AddressSize;
        }

        PhysAddr table = root;
        bool read = true;
        bool write = true;
        for (int level = TinyPte.Levels; level >= 1; level--)
        {
            if (!_memory.Contains(table, TinyPte.PageSize))
            {
                return TinyFaultCode.ExternalAbort;
            }

            var pte = new TinyPte(_memory.ReadU64(table + ((ulong)TinyPte.Index(va, level) * sizeof(ulong))));
            if (!pte.IsPresent)
            {
                return TinyFaultCode.NotPresent;
            }

            if (pte.IsMalformedAt(level))
            {
                return TinyFaultCode.IllegalEntry;
            }

            read &= pte.CanRead;
            write &= pte.CanWrite;
            if (level == 1)
            {
                var allowed = (read ? DmaAccess.Read : DmaAccess.None) | (write ? DmaAccess.Write : DmaAccess.None);
                translation = new Translation(iova.AlignDown(TinyPte.PageSize), pte.Address, TinyPte.PageShift, allowed);
                return TinyFaultCode.None;
            }

            table = pte.Address;
        }

        return TinyFaultCode.NotPresent;
    }

    private static FaultReason ReasonFor(TinyFaultCode code) => code switch
    {
        TinyFaultCode.AddressSize => FaultReason.AddressSize,
        TinyFaultCode.NotPresent => FaultReason.Translation,
        TinyFaultCode.IllegalEntry => FaultReason.InvalidEntry,
        _ => FaultReason.ExternalAbort,
    };

    private DeviceTableEntry ReadDeviceEntry(Rid rid)
    {
        if (_deviceEntryCache.TryGetValue(rid.Bdf, out DeviceTableEntry cached))
        {
            return cached;
        }

        if (_deviceTableBase.Value == 0 || rid.Segment != 0)
        {
            return DeviceTableEntry.Invalid; // translation not enabled, or a segment this unit does not serve
        }

        PhysAddr at = DeviceTableEntry.AddressOf(_deviceTableBase, rid);
        var entry = new DeviceTableEntry(_memory.ReadU64(at), _memory.ReadU64(at + sizeof(ulong)));
        _deviceEntryCache[rid.Bdf] = entry;
        return entry;
    }

    private TranslationResult Fault(in DmaRequest request, FaultReason reason, TinyFaultCode code)
    {
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

    private readonly struct Walker(TinyIommuHardware hardware, PhysAddr root) : ITranslationWalker
    {
        public bool TryWalk(Iova iova, out Translation translation) =>
            hardware.Walk(root, iova, out translation) == TinyFaultCode.None;
    }
}
