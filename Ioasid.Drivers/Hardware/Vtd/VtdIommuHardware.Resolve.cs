using System;

namespace Ioasid.Drivers.Hardware.Vtd;

// The context and PASID half of translation (drivers.md §2.9 steps 2–5): root entry, context entry (legacy or
// scalable), PASID directory and PASID-table entry, through the context and PASID caches.
public sealed partial class VtdIommuHardware
{
    private VtdFaultReason Resolve(in DmaRequest request, out VtdTranslationConfig config, out bool fpd, bool useCaches = true)
    {
        config = default;
        fpd = false;
        ushort sid = request.Rid.Bdf;
        int haw = Capabilities.HostAddressWidth;
        ulong q0;
        ulong q1;
        if (useCaches && _contextCache.TryGetValue(sid, out CachedContext cachedContext))
        {
            q0 = cachedContext.Q0;
            q1 = cachedContext.Q1;
        }
        else
        {
            VtdFaultReason contextFault = ReadContext(request.Rid, haw, out q0, out q1, out fpd);
            if (contextFault != VtdFaultReason.None)
            {
                return contextFault;
            }

            if (useCaches)
            {
                _contextCache[sid] = new CachedContext(q0, q1);
            }
        }

        if (!_scalableActive)
        {
            var context = new ContextEntry(q0, q1);
            fpd = context.FaultProcessingDisable;
            bool ats = context.TranslationType == ContextTranslationType.UntranslatedAndAts && Bit(Ecap, VtdEcapRegister.DeviceTlbBit);
            if (request.Pasid is not null)
            {
                return VtdFaultReason.ContextEntryInvalid; // legacy mode has no requests-with-PASID
            }

            switch (context.TranslationType)
            {
                case ContextTranslationType.PassThrough when Bit(Ecap, VtdEcapRegister.PassThroughBit):
                    config = new VtdTranslationConfig(VtdTranslationKind.PassThrough, context.DomainId, 0, default, 0, default, 0, fpd, false);
                    return VtdFaultReason.None;
                case ContextTranslationType.Untranslated or ContextTranslationType.UntranslatedAndAts when Capabilities.SupportsLevels(context.AddressWidth + 2):
                    config = new VtdTranslationConfig(VtdTranslationKind.SecondStage, context.DomainId, 0, context.SecondStageRoot, context.AddressWidth + 2, default, 0, fpd, false) { AtsAllowed = ats };
                    return VtdFaultReason.None;
                default:
                    return VtdFaultReason.ContextEntryInvalid;
            }
        }

        var scalable = new ScalableContextEntry(q0, q1);
        fpd = scalable.FaultProcessingDisable;
        if (request.Pasid is not null && !scalable.PasidEnable)
        {
            return VtdFaultReason.ContextEntryInvalid;
        }

        uint pasid = request.Pasid?.Value ?? scalable.RidPasid;
        ulong pasidKey = ((ulong)sid << 20) | pasid;
        PasidEntry entry;
        if (useCaches && _pasidCache.TryGetValue(pasidKey, out CachedPasidEntry cachedPasid))
        {
            entry = cachedPasid.Entry;
            fpd |= cachedPasid.DirectoryFpd | entry.FaultProcessingDisable;
        }
        else
        {
            VtdFaultReason pasidFault = ReadPasidEntry(scalable, pasid, haw, ref fpd, out entry, out bool directoryFpd);
            if (pasidFault != VtdFaultReason.None)
            {
                return pasidFault;
            }

            if (useCaches)
            {
                _pasidCache[pasidKey] = new CachedPasidEntry(entry, directoryFpd);
            }
        }

        VtdFaultReason configured = Configure(entry, pasid, fpd, out config);
        config = config with { AtsAllowed = scalable.DeviceTlbEnable && Bit(Ecap, VtdEcapRegister.DeviceTlbBit) };
        return configured;
    }

    private VtdFaultReason ReadContext(Rid rid, int haw, out ulong q0, out ulong q1, out bool fpd)
    {
        q0 = 0;
        q1 = 0;
        fpd = false;
        ulong rootAddress = _activeRoot + ((ulong)rid.Bus * RootEntry.Size);
        if (!_memory.Contains(new PhysAddr(rootAddress), RootEntry.Size))
        {
            return VtdFaultReason.RootTableReadError;
        }

        var root = new RootEntry(_memory.ReadU64(new PhysAddr(rootAddress)), _memory.ReadU64(new PhysAddr(rootAddress + 8)));
        byte devfn = rid.DevFn;
        bool upper = _scalableActive && devfn >= 0x80;
        if (upper ? !root.UpperPresent : !root.Present)
        {
            return VtdFaultReason.RootEntryNotPresent;
        }

        if (root.HasReservedBits(_scalableActive, haw))
        {
            return VtdFaultReason.RootEntryReserved;
        }

        ulong table = (upper ? root.UpperContextTable : root.ContextTable).Value;
        int entrySize = _scalableActive ? ScalableContextEntry.Size : ContextEntry.Size;
        ulong address = table + ((ulong)(_scalableActive ? devfn & 0x7F : devfn) * (ulong)entrySize);
        if (!_memory.Contains(new PhysAddr(address), (ulong)entrySize))
        {
            return VtdFaultReason.ContextTableReadError;
        }

        q0 = _memory.ReadU64(new PhysAddr(address));
        q1 = _memory.ReadU64(new PhysAddr(address + 8));
        fpd = (q0 & ContextEntry.FaultProcessingDisableBit) != 0;
        if ((q0 & ContextEntry.PresentBit) == 0)
        {
            return VtdFaultReason.ContextEntryNotPresent;
        }

        bool reserved = _scalableActive
            ? new ScalableContextEntry(q0, q1, _memory.ReadU64(new PhysAddr(address + 16)), _memory.ReadU64(new PhysAddr(address + 24))).HasReservedBits(haw)
            : new ContextEntry(q0, q1).HasReservedBits(haw);
        return reserved ? VtdFaultReason.ContextEntryReserved : VtdFaultReason.None;
    }

    private VtdFaultReason ReadPasidEntry(in ScalableContextEntry context, uint pasid, int haw, ref bool fpd, out PasidEntry entry, out bool directoryFpd)
    {
        entry = default;
        directoryFpd = false;
        uint dirIndex = PasidDirEntry.DirectoryIndex(pasid);
        if (dirIndex >= context.DirectoryEntries)
        {
            return VtdFaultReason.PasidDirectoryEntryNotPresent;
        }

        ulong dirAddress = context.PasidDirectory.Value + ((ulong)dirIndex * PasidDirEntry.Size);
        if (!_memory.Contains(new PhysAddr(dirAddress), PasidDirEntry.Size))
        {
            return VtdFaultReason.PasidDirectoryReadError;
        }

        var dir = new PasidDirEntry(_memory.ReadU64(new PhysAddr(dirAddress)));
        directoryFpd = dir.FaultProcessingDisable;
        fpd |= directoryFpd;
        if (!dir.Present)
        {
            return VtdFaultReason.PasidDirectoryEntryNotPresent;
        }

        if (dir.HasReservedBits(haw))
        {
            return VtdFaultReason.PasidEntryInvalid;
        }

        ulong address = dir.PasidTable.Value + ((ulong)PasidDirEntry.TableIndex(pasid) * PasidEntry.Size);
        if (!_memory.Contains(new PhysAddr(address), PasidEntry.Size))
        {
            return VtdFaultReason.PasidTableReadError;
        }

        entry = new PasidEntry(_memory.ReadU64(new PhysAddr(address)), _memory.ReadU64(new PhysAddr(address + 8)),
            _memory.ReadU64(new PhysAddr(address + 16)), _memory.ReadU64(new PhysAddr(address + 24)));
        fpd |= entry.FaultProcessingDisable;
        if (!entry.Present)
        {
            return VtdFaultReason.PasidEntryNotPresent;
        }

        return entry.HasReservedBits ? VtdFaultReason.PasidEntryInvalid : VtdFaultReason.None;
    }

    private VtdFaultReason Configure(in PasidEntry entry, uint pasid, bool fpd, out VtdTranslationConfig config)
    {
        config = default;
        int ssLevels = entry.AddressWidth + 2;
        int fsLevels = entry.FirstStageFiveLevel ? 5 : 4;
        bool fsOk = Bit(Ecap, VtdEcapRegister.FirstStageBit) && !entry.FirstStagePagingModeReserved
            && (fsLevels == 4 || Bit(Cap, VtdCapRegister.FirstStage5LevelBit));
        bool ssOk = Capabilities.SupportsLevels(ssLevels);

        // SSADE asks for A/D updates in the second stage; without ECAP.SSADS the bit is reserved.
        bool accessDirty = entry.SecondStageAccessDirty;
        if (accessDirty && !Bit(Ecap, VtdEcapRegister.SecondStageAccessDirtyBit)
            && entry.Pgtt is PasidGranularTranslationType.SecondStage or PasidGranularTranslationType.Nested)
        {
            return VtdFaultReason.PasidEntryInvalid;
        }

        switch (entry.Pgtt)
        {
            case PasidGranularTranslationType.SecondStage when ssOk:
                config = new VtdTranslationConfig(VtdTranslationKind.SecondStage, entry.DomainId, pasid, entry.SecondStageRoot, ssLevels, default, 0, fpd, true, accessDirty);
                return VtdFaultReason.None;
            case PasidGranularTranslationType.FirstStage when fsOk:
                config = new VtdTranslationConfig(VtdTranslationKind.FirstStage, entry.DomainId, pasid, default, 0, entry.FirstStageRoot, fsLevels, fpd, true);
                return VtdFaultReason.None;
            case PasidGranularTranslationType.Nested when fsOk && ssOk && Bit(Ecap, VtdEcapRegister.NestedBit):
                config = new VtdTranslationConfig(VtdTranslationKind.Nested, entry.DomainId, pasid, entry.SecondStageRoot, ssLevels, entry.FirstStageRoot, fsLevels, fpd, true, accessDirty);
                return VtdFaultReason.None;
            case PasidGranularTranslationType.PassThrough when Bit(Ecap, VtdEcapRegister.PassThroughBit):
                config = new VtdTranslationConfig(VtdTranslationKind.PassThrough, entry.DomainId, pasid, default, 0, default, 0, fpd, true);
                return VtdFaultReason.None;
            default:
                return VtdFaultReason.PasidEntryInvalid;
        }
    }

    private static bool Bit(ulong register, int bit) => VtdCapRegister.Bit(register, bit);
}
