using System.Runtime.CompilerServices;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Smmu;
using D = Ioasid.Drivers.Smmu.VmsaDescriptor;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// The hardware's VMSAv8-64 table walk for one stage (drivers.md §3.6, §3.9): 4, 16 and 64 KiB granules, any start
/// level, concatenated stage-2 start tables, block and page descriptors, APTable (stage 1) and S2AP (stage 2)
/// permissions, the access flag and the address-size checks. Reads memory only; caches nothing.
/// </summary>
/// <remarks>
/// Requests are modelled as unprivileged data accesses: a stage-1 leaf without AP[1] (or under APTable[0]) grants
/// nothing. Execute permissions are not modelled (DMA here is never an instruction fetch).
/// </remarks>
public static class VmsaWalker
{
    /// <summary>Walks <paramref name="context"/>'s tables for <paramref name="input"/>.</summary>
    /// <param name="memory">Where the tables live.</param>
    /// <param name="context">The decoded walk configuration.</param>
    /// <param name="input">The input address (VA at stage 1, IPA at stage 2).</param>
    /// <param name="translation">The leaf, with the permissions it grants an unprivileged data access.</param>
    /// <param name="level">The level the walk ended at (the leaf's, or the faulting descriptor's).</param>
    /// <param name="faultAddress">For <see cref="WalkFault.ExternalAbort"/> and table <see cref="WalkFault.AddressSize"/>, the address involved.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WalkFault Walk(PhysicalMemory memory, in WalkContext context, ulong input, out Translation translation, out int level, out ulong faultAddress) =>
        Walk(memory, context, default, nested: false, input, out translation, out level, out faultAddress, out _);

    /// <summary>
    /// Walks stage-1 tables whose addresses are IPAs when <paramref name="nested"/>: every descriptor fetch is first
    /// translated through <paramref name="tableStage2"/> (needing read permission there). A fault on that
    /// translation ends the walk with <paramref name="faultAtStage2"/> set and the descriptor's IPA in
    /// <paramref name="faultAddress"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WalkFault Walk(
        PhysicalMemory memory, in WalkContext context, in WalkContext tableStage2, bool nested, ulong input,
        out Translation translation, out int level, out ulong faultAddress, out bool faultAtStage2) =>
        Walk(memory, context, tableStage2, nested, input, DmaAccess.Read, update: false, out translation, out level, out faultAddress, out faultAtStage2, out _);

    /// <summary>
    /// The walk of <see cref="Walk(PhysicalMemory, in WalkContext, in WalkContext, bool, ulong, out Translation, out int, out ulong, out bool)"/>
    /// with the hardware flag updates of HTTU (drivers.md §3.6): under <see cref="WalkContext.HardwareAccess"/> (CD.HA)
    /// a leaf with AF = 0 does not fault F_ACCESS, the walk sets AF; under <see cref="WalkContext.HardwareDirty"/>
    /// (CD.HA and CD.HD) a stage-1 leaf with DBM = 1 and AP[2] = 1 is "writable-clean": a write by
    /// <paramref name="access"/> clears AP[2] (making it "writable-dirty") and is granted. Memory is written only when
    /// <paramref name="update"/>. A writable-clean leaf not made dirty yields a read-only translation with
    /// <paramref name="writableClean"/> set, so a cached copy never lets a write skip the update.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WalkFault Walk(
        PhysicalMemory memory, in WalkContext context, in WalkContext tableStage2, bool nested, ulong input, DmaAccess access, bool update,
        out Translation translation, out int level, out ulong faultAddress, out bool faultAtStage2, out bool writableClean)
    {
        writableClean = false;
        translation = default;
        faultAtStage2 = false;
        faultAddress = 0;
        int lvl = context.StartLevel;
        level = lvl;
        int inputBits = context.InputBits;
        if (inputBits < 64 && (input >> inputBits) != 0)
        {
            return WalkFault.Translation;
        }

        // Everything the loop needs is fixed by the context: hoisted so each level is an index, a load and two tests.
        TranslationGranule granule = context.Granule;
        int stride = granule.Stride();
        int shift = granule.LevelShift(lvl);
        ulong indexMask = (1UL << (inputBits - shift)) - 1; // the start level may resolve fewer bits than a stride
        ulong strideMask = (1UL << stride) - 1;
        ulong outputLimit = context.OutputBits >= 64 ? ulong.MaxValue : 1UL << context.OutputBits;
        ulong tableMask = D.AddressMask & ~(granule.PageSize() - 1);
        ulong apTableMask = context.Stage2 || context.HierarchicalDisable ? 0 : D.ApTableNoUnprivileged | D.ApTableNoWrite;
        ulong apTable = 0; // APTable bits met on the way down (stage 1, unless HPD)
        ulong table = context.Ttb.Value;
        ulong memorySize = memory.Size;
        ulong descriptor;
        ulong lastEntry;
        while (true)
        {
            ulong entryAddress = table + (((input >> shift) & indexMask) << 3);
            if (nested)
            {
                WalkFault s2 = Walk(memory, tableStage2, entryAddress, out Translation tableTranslation, out _, out _);
                if (s2 != WalkFault.None || !tableTranslation.Allows(DmaAccess.Read))
                {
                    level = lvl;
                    faultAtStage2 = true;
                    faultAddress = entryAddress;
                    return s2 == WalkFault.None ? WalkFault.Permission : s2;
                }

                entryAddress = tableTranslation.OutputFor(new Iova(entryAddress)).Value;
            }

            if (entryAddress >= memorySize)
            {
                level = lvl;
                faultAddress = entryAddress;
                return WalkFault.ExternalAbort;
            }

            descriptor = memory.ReadTableEntry(entryAddress);
            lastEntry = entryAddress;
            if ((descriptor & D.Valid) == 0)
            {
                level = lvl;
                return WalkFault.Translation;
            }

            if (lvl < 3 && (descriptor & D.TypeMask) == D.TypeTable)
            {
                apTable |= descriptor & apTableMask;
                table = descriptor & tableMask;
                if (table >= outputLimit)
                {
                    level = lvl;
                    faultAddress = table;
                    return WalkFault.AddressSize;
                }

                lvl++;
                shift -= stride;
                indexMask = strideMask;
                continue;
            }

            level = lvl;

            // A page at level 3 is 0b11; 0b01 there is reserved. Above level 3, 0b01 is a block where blocks exist.
            bool isLeaf = lvl == 3 ? (descriptor & D.TypeMask) == D.TypeTable : granule.AllowsLeaf(lvl);
            if (!isLeaf)
            {
                return WalkFault.Translation;
            }

            break;
        }

        ulong offsetMask = (1UL << shift) - 1;
        ulong output = descriptor & D.AddressMask & ~offsetMask;
        if (output >= outputLimit)
        {
            faultAddress = output;
            return WalkFault.AddressSize;
        }

        if ((descriptor & D.AccessFlag) == 0 && !context.AccessFlagFaultDisable && !context.HardwareAccess)
        {
            return WalkFault.Access;
        }

        bool noUnprivileged = (apTable & D.ApTableNoUnprivileged) != 0;
        bool noWrite = (apTable & D.ApTableNoWrite) != 0;
        DmaAccess permissions = Permissions(descriptor, context.Stage2, noUnprivileged, noWrite);
        if (context.HardwareAccess || context.HardwareDirty)
        {
            permissions = UpdateFlags(memory, context, entryAddressOfLeaf: lastEntry, descriptor, permissions, noUnprivileged, noWrite, access, update, ref writableClean);
        }

        translation = new Translation(new Iova(input & ~offsetMask), new PhysAddr(output), shift, permissions);
        return WalkFault.None;
    }

    // HTTU at a leaf: AF set on use (HA); a permitted write to a writable-clean stage-1 leaf clears AP[2] (HD). The
    // model is single-threaded, so the read-modify-write stands for the hardware's atomic update.
    private static DmaAccess UpdateFlags(
        PhysicalMemory memory, in WalkContext context, ulong entryAddressOfLeaf, ulong descriptor, DmaAccess permissions,
        bool noUnprivileged, bool noWrite, DmaAccess access, bool update, ref bool writableClean)
    {
        ulong updated = context.HardwareAccess ? descriptor | D.AccessFlag : descriptor;
        bool clean = context.HardwareDirty && !context.Stage2 && !noWrite && !noUnprivileged
            && (descriptor & (D.DirtyBitModifier | D.ApReadOnly | D.ApUnprivileged)) == (D.DirtyBitModifier | D.ApReadOnly | D.ApUnprivileged);
        if (clean && (access & DmaAccess.Write) != 0 && update)
        {
            updated &= ~D.ApReadOnly; // writable-clean becomes writable-dirty
            clean = false;
            permissions = DmaAccess.ReadWrite;
        }

        if (update && updated != descriptor)
        {
            memory.WriteU64(new PhysAddr(entryAddressOfLeaf), updated);
        }

        writableClean = clean;
        return permissions;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DmaAccess Permissions(ulong leaf, bool stage2, bool noUnprivileged, bool noWrite)
    {
        if (stage2)
        {
            return ((leaf & D.S2ApRead) != 0 ? DmaAccess.Read : 0) | ((leaf & D.S2ApWrite) != 0 ? DmaAccess.Write : 0);
        }

        if ((leaf & D.ApUnprivileged) == 0 || noUnprivileged)
        {
            return DmaAccess.None;
        }

        return (leaf & D.ApReadOnly) != 0 || noWrite ? DmaAccess.Read : DmaAccess.ReadWrite;
    }
}
