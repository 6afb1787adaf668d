using System;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// The page-walk engine of a VT-d unit: second-stage, first-stage and nested walks over tables in
/// <see cref="PhysicalMemory"/>, with the reserved-bit, superpage, privilege and permission rules of drivers.md
/// §2.6–§2.9. It holds only what the capabilities fix (HAW, snoop control, superpage support), so it is a small
/// struct that the hardware's translate path and the stale-translation checker share.
/// </summary>
public readonly struct VtdPageWalker
{
    /// <summary><see cref="IotlbEntry.VendorData"/> flag: a leaf allows writes but its D bit was clear (a first-stage leaf, or a second-stage leaf under SSADE), so the cached entry omits Write and a write must walk again.</summary>
    public const ulong WritableCleanFlag = 1UL << 0;

    /// <summary><see cref="IotlbEntry.VendorData"/> flag: a cached not-present entry (caching mode); the fault code is in bits 15:8.</summary>
    public const ulong NotPresentFlag = 1UL << 1;

    private readonly PhysicalMemory _memory;
    private readonly ulong _addressReserved;
    private readonly ulong _snoopReserved;
    private readonly bool _ss2M;
    private readonly bool _ss1G;
    private readonly bool _fs1G;
    private readonly int _mgaw;
    private readonly int _haw;

    /// <summary>Creates the walker of a unit with <paramref name="capabilities"/> over <paramref name="memory"/>.</summary>
    public VtdPageWalker(PhysicalMemory memory, VtdCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(capabilities);
        _memory = memory;
        _addressReserved = SlPte.AddressMask & RootEntry.AddressBitsAbove(capabilities.HostAddressWidth);
        _snoopReserved = capabilities.SnoopControl ? 0 : SlPte.Snoop;
        _ss2M = capabilities.SecondStage2M;
        _ss1G = capabilities.SecondStage1G;
        _fs1G = capabilities.FirstStage1G;
        _mgaw = capabilities.MaxGuestAddressWidth;
        _haw = capabilities.HostAddressWidth;
    }

    /// <summary>The input limit of a second stage of <paramref name="levels"/> levels: 2^min(30 + 9·AW, MGAW).</summary>
    public ulong SecondStageLimit(int levels)
    {
        int bits = Math.Min(12 + (9 * levels), _mgaw);
        return bits >= 64 ? ulong.MaxValue : 1UL << bits;
    }

    /// <summary>
    /// Walks a configuration for <paramref name="iova"/>; <paramref name="update"/> lets the walk set A and D in memory
    /// (first stage always; second stage only under SSADE). <paramref name="flags"/> gets
    /// <see cref="WritableCleanFlag"/> when the leaf allows writes but its D is clear: the translation then omits Write,
    /// so a cached copy cannot let a write skip setting D.
    /// </summary>
    public VtdFaultReason Walk(in VtdTranslationConfig config, ulong iova, DmaAccess access, bool update, out Translation translation, out ulong flags)
    {
        flags = 0;
        switch (config.Kind)
        {
            case VtdTranslationKind.SecondStage:
                VtdFaultReason code = WalkSecondStage(config.SecondStageRoot.Value, config.SecondStageLevels, iova, access, config.SecondStageAccessDirty, update, out translation, out bool clean);
                flags = clean ? WritableCleanFlag : 0;
                return code;
            case VtdTranslationKind.FirstStage:
            case VtdTranslationKind.Nested:
                return WalkFirstStage(config, iova, access, update, out translation, out flags);
            default:
                translation = Translation.IdentityPage(iova);
                return VtdFaultReason.None;
        }
    }

    /// <summary>
    /// A second-stage walk from <paramref name="root"/> (the input-width check is the caller's). Not present →
    /// 5h/6h by access; a reserved bit → Ch; a table outside memory → 7h. Permissions are the AND of R/W of every level.
    /// </summary>
    public VtdFaultReason WalkSecondStage(ulong root, int levels, ulong iova, DmaAccess access, out Translation translation) =>
        WalkSecondStage(root, levels, iova, access, accessDirty: false, update: false, out translation, out _);

    /// <summary>
    /// A second-stage walk as <see cref="WalkSecondStage(ulong, int, ulong, DmaAccess, out Translation)"/>; with
    /// <paramref name="accessDirty"/> (the PASID entry's SSADE) the hardware's A/D rules apply: A is set in every entry
    /// the walk uses and D in the leaf when <paramref name="access"/> writes and the walk grants Write (both written to
    /// memory only when <paramref name="update"/>). A writable leaf whose D is (still) clear yields a translation
    /// without Write and <paramref name="writableClean"/> set: cached, it makes the next write walk again.
    /// </summary>
    public VtdFaultReason WalkSecondStage(ulong root, int levels, ulong iova, DmaAccess access, bool accessDirty, bool update, out Translation translation, out bool writableClean)
    {
        writableClean = false;
        PhysicalMemory memory = _memory;
        ulong size = memory.Size;
        ulong table = root;
        ulong permissions = SlPte.Read | SlPte.Write;
        int shift = 12 + (9 * (levels - 1));
        ulong nonLeafReserved = _addressReserved | _snoopReserved;
        for (int level = levels; ; level--, shift -= 9)
        {
            ulong address = table + (((iova >> shift) & 511) << 3);
            if (address >= size)
            {
                translation = default;
                return VtdFaultReason.SecondStageReadError;
            }

            ulong pte = memory.ReadTableEntry(address);
            if ((pte & SlPte.PresentMask) == 0)
            {
                translation = default;
                return (access & DmaAccess.Write) != 0 && (access & DmaAccess.Read) == 0 ? VtdFaultReason.WriteNotPermitted : VtdFaultReason.ReadNotPermitted;
            }

            permissions &= pte;
            bool leaf = level == 1 || (level <= 3 && (pte & SlPte.PageSize) != 0);
            if (!leaf)
            {
                // Fast path: a well-formed table entry.
                if ((pte & (nonLeafReserved | (level >= 4 ? SlPte.PageSize : 0))) != 0)
                {
                    translation = default;
                    return VtdFaultReason.SecondStageEntryReserved;
                }

                if (accessDirty && update && (pte & SlPte.Accessed) == 0)
                {
                    memory.WriteU64(new PhysAddr(address), pte | SlPte.Accessed);
                }

                table = pte & SlPte.AddressMask;
                continue;
            }

            ulong offsetMask = (1UL << shift) - 1;
            if ((pte & (nonLeafReserved | (offsetMask & SlPte.AddressMask))) != 0
                || (level == 2 && !_ss2M) || (level == 3 && !_ss1G))
            {
                translation = default;
                return VtdFaultReason.SecondStageEntryReserved;
            }

            if (accessDirty)
            {
                permissions = SecondStageAccessDirty(address, pte, permissions, access, update, ref writableClean);
            }

            translation = new Translation(new Iova(iova & ~offsetMask), new PhysAddr(pte & SlPte.AddressMask), shift, (DmaAccess)(permissions & 3));
            return VtdFaultReason.None;
        }
    }

    // SSADE at a leaf: A on every use, D on a permitted write; Write is granted only once D is set.
    private ulong SecondStageAccessDirty(ulong address, ulong pte, ulong permissions, DmaAccess access, bool update, ref bool writableClean)
    {
        ulong updated = pte | SlPte.Accessed;
        if ((access & DmaAccess.Write) != 0 && (permissions & SlPte.Write) != 0)
        {
            updated |= SlPte.Dirty;
        }

        if (!update)
        {
            updated = pte;
        }
        else if (updated != pte)
        {
            _memory.WriteU64(new PhysAddr(address), updated);
        }

        if ((permissions & SlPte.Write) != 0 && (updated & SlPte.Dirty) == 0)
        {
            writableClean = true;
            permissions &= ~SlPte.Write;
        }

        return permissions;
    }

    private VtdFaultReason WalkFirstStage(in VtdTranslationConfig config, ulong iova, DmaAccess access, bool update, out Translation translation, out ulong flags)
    {
        translation = default;
        flags = 0;
        PhysicalMemory memory = _memory;
        bool nested = config.Kind == VtdTranslationKind.Nested;
        ulong ssLimit = nested ? SecondStageLimit(config.SecondStageLevels) : 0;
        int levels = config.FirstStageLevels;
        ulong tableGpa = config.FirstStageRoot.Value;
        bool writable = true;
        bool user = true;
        int shift = 12 + (9 * (levels - 1));
        for (int level = levels; ; level--, shift -= 9)
        {
            ulong entryGpa = tableGpa + (((iova >> shift) & 511) << 3);
            ulong entryAddress = entryGpa;
            if (nested)
            {
                VtdFaultReason s2 = TranslateGpa(config, entryGpa, ssLimit, DmaAccess.Read, update, out Translation t2, out _);
                if (s2 != VtdFaultReason.None)
                {
                    return s2;
                }

                entryAddress = t2.OutputFor(new Iova(entryGpa)).Value;
            }

            if (entryAddress >= memory.Size)
            {
                return VtdFaultReason.FirstStageReadError;
            }

            ulong pte = memory.ReadTableEntry(entryAddress);
            if ((pte & FlPte.Present) == 0)
            {
                return VtdFaultReason.FirstStageNotPresent;
            }

            bool leaf = level == 1 || (level <= 3 && (pte & FlPte.PageSize) != 0);
            if ((pte & FlPte.ReservedMask(level, leaf, _haw)) != 0
                || (leaf && level == 3 && !_fs1G))
            {
                return VtdFaultReason.FirstStageReserved;
            }

            writable &= (pte & FlPte.Writable) != 0;
            user &= (pte & FlPte.User) != 0;
            if (update && (pte & FlPte.Accessed) == 0)
            {
                pte |= FlPte.Accessed;
                memory.WriteU64(new PhysAddr(entryAddress), pte);
                NoteGuestTableWrite(config, nested, entryGpa, ssLimit);
            }

            if (!leaf)
            {
                tableGpa = pte & FlPte.AddressMask;
                continue;
            }

            if (!user)
            {
                return VtdFaultReason.FirstStagePrivilege; // every request is a user request in this model
            }

            if ((access & DmaAccess.Write) != 0)
            {
                if (!writable)
                {
                    return VtdFaultReason.FirstStageWriteNotPermitted;
                }

                if (update && (pte & FlPte.Dirty) == 0)
                {
                    pte |= FlPte.Dirty;
                    memory.WriteU64(new PhysAddr(entryAddress), pte);
                    NoteGuestTableWrite(config, nested, entryGpa, ssLimit);
                }
            }

            DmaAccess permissions = DmaAccess.Read;
            if (writable && (pte & FlPte.Dirty) != 0)
            {
                permissions |= DmaAccess.Write;
            }
            else if (writable)
            {
                flags |= WritableCleanFlag;
            }

            ulong offsetMask = (1UL << shift) - 1;
            ulong outputGpa = (pte & FlPte.AddressMask & ~offsetMask) | (iova & offsetMask);
            if (!nested)
            {
                translation = new Translation(new Iova(iova & ~offsetMask), new PhysAddr(pte & FlPte.AddressMask & ~offsetMask), shift, permissions);
                return VtdFaultReason.None;
            }

            VtdFaultReason final = TranslateGpa(config, outputGpa, ssLimit, access, update, out Translation s2t, out bool s2Clean);
            if (final != VtdFaultReason.None)
            {
                return final;
            }

            if (s2Clean && writable)
            {
                flags |= WritableCleanFlag; // the parent's leaf is clean (SSADE): a write must walk again to set its D
            }

            int combined = Math.Min(shift, s2t.PageShift);
            ulong combinedMask = (1UL << combined) - 1;
            ulong output = s2t.OutputFor(new Iova(outputGpa)).Value & ~combinedMask;
            translation = new Translation(new Iova(iova & ~combinedMask), new PhysAddr(output), combined, permissions & s2t.Permissions);
            return VtdFaultReason.None;
        }
    }

    // Nested under SSADE: the hardware's A/D update of a first-stage entry is a write to guest memory, so the
    // second-stage leaf holding that entry gets D as a DMA write would give it.
    private void NoteGuestTableWrite(in VtdTranslationConfig config, bool nested, ulong entryGpa, ulong ssLimit)
    {
        if (nested && config.SecondStageAccessDirty)
        {
            TranslateGpa(config, entryGpa, ssLimit, DmaAccess.Write, update: true, out _, out _);
        }
    }

    private VtdFaultReason TranslateGpa(in VtdTranslationConfig config, ulong gpa, ulong limit, DmaAccess access, bool update, out Translation translation, out bool writableClean)
    {
        writableClean = false;
        if (gpa >= limit)
        {
            translation = default;
            return VtdFaultReason.AddressBeyondWidth;
        }

        VtdFaultReason code = WalkSecondStage(config.SecondStageRoot.Value, config.SecondStageLevels, gpa, access, config.SecondStageAccessDirty, update, out translation, out writableClean);
        if (code == VtdFaultReason.None && !translation.Allows(access))
        {
            return (access & DmaAccess.Read) != 0 && (translation.Permissions & DmaAccess.Read) == 0 ? VtdFaultReason.ReadNotPermitted : VtdFaultReason.WriteNotPermitted;
        }

        return code;
    }
}

/// <summary>The stale-translation checker's view of one configuration: a fresh walk that changes nothing in memory.</summary>
internal readonly struct VtdStaleWalker(VtdPageWalker walker, VtdTranslationConfig config) : ITranslationWalker
{
    public bool TryWalk(Iova iova, out Translation translation) =>
        walker.Walk(config, iova.Value, DmaAccess.Read, update: false, out translation, out _) == VtdFaultReason.None;
}
