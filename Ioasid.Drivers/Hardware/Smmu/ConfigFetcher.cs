using System;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// Reads and decodes configuration structures from memory: the STE of a StreamID through a linear or two-level stream
/// table (drivers.md §3.3–3.4) and a CD through a linear or two-level CD table (§3.5), applying the checks that make
/// them illegal (C_BAD_STE, C_BAD_CD) against what <see cref="IdRegisters"/> implements. Caches nothing.
/// </summary>
internal sealed class ConfigFetcher(PhysicalMemory memory, IdRegisters id)
{
    private const int MinTxSz = 16;
    private const int MaxTxSz = 39;

    public StreamConfig FetchStream(uint sid, ulong strtabBase, uint strtabCfg)
    {
        int log2Size = (int)(strtabCfg & 0x3F);
        int split = (int)((strtabCfg >> 6) & 0x1F);
        bool twoLevel = ((strtabCfg >> 16) & 3) == SmmuRegisters.StrtabFmtTwoLevel;
        ulong tableBase = strtabBase & BitField.Mask(6, 46);
        if (sid >= (1UL << Math.Min(log2Size, id.SidBits)))
        {
            return new StreamConfig { StreamId = sid, Fault = SmmuEventType.CBadStreamId };
        }

        ulong steAddress;
        if (twoLevel)
        {
            ulong l1Address = tableBase + ((ulong)(sid >> split) * TableDescriptors.Size);
            if (!memory.Contains(new PhysAddr(l1Address), TableDescriptors.Size))
            {
                return new StreamConfig { StreamId = sid, Fault = SmmuEventType.FSteFetch, FaultAddress = l1Address };
            }

            ulong std = memory.ReadU64(new PhysAddr(l1Address));
            int span = TableDescriptors.StdSpan(std);
            if (span == 0)
            {
                return new StreamConfig { StreamId = sid, Fault = SmmuEventType.CBadStreamId };
            }

            ulong index = sid & ((1UL << split) - 1);
            if (span > 12 || index >= 1UL << (span - 1))
            {
                return new StreamConfig { StreamId = sid, Fault = SmmuEventType.CBadSte };
            }

            steAddress = TableDescriptors.StdL2Ptr(std).Value + (index * StreamTableEntry.Size);
        }
        else
        {
            steAddress = tableBase + ((ulong)sid * StreamTableEntry.Size);
        }

        if (!memory.Contains(new PhysAddr(steAddress), StreamTableEntry.Size))
        {
            return new StreamConfig { StreamId = sid, Fault = SmmuEventType.FSteFetch, FaultAddress = steAddress };
        }

        var ste = new StreamTableEntry(
            memory.ReadU64(new PhysAddr(steAddress)), memory.ReadU64(new PhysAddr(steAddress + 8)),
            memory.ReadU64(new PhysAddr(steAddress + 16)), memory.ReadU64(new PhysAddr(steAddress + 24)));
        return DecodeSte(sid, new PhysAddr(steAddress), ste);
    }

    public ContextConfig FetchContext(StreamConfig stream, uint index)
    {
        StreamTableEntry ste = stream.Entry;
        ulong cdAddress;
        ulong tableBase = ste.S1ContextPtr.Value;
        int leafShift = ste.S1Fmt == CdTableFormat.TwoLevel4K ? 6 : 10;
        if (ste.S1Fmt == CdTableFormat.Linear)
        {
            if (!TryOutput(stream, tableBase + ((ulong)index * ContextDescriptor.Size), index, out cdAddress, out ContextConfig? fault))
            {
                return fault!;
            }
        }
        else
        {
            if (!TryOutput(stream, tableBase + ((ulong)(index >> leafShift) * TableDescriptors.Size), index, out ulong l1Address, out ContextConfig? fault))
            {
                return fault!;
            }

            if (!memory.Contains(new PhysAddr(l1Address), TableDescriptors.Size))
            {
                return new ContextConfig { StreamId = stream.StreamId, Index = index, Fault = SmmuEventType.FCdFetch, FaultAddress = l1Address };
            }

            ulong l1cd = memory.ReadU64(new PhysAddr(l1Address));
            if (!TableDescriptors.L1CdValid(l1cd))
            {
                return new ContextConfig { StreamId = stream.StreamId, Index = index, Fault = SmmuEventType.CBadSubstreamId };
            }

            ulong leaf = TableDescriptors.L1CdL2Ptr(l1cd).Value + ((index & ((1UL << leafShift) - 1)) * ContextDescriptor.Size);
            if (!TryOutput(stream, leaf, index, out cdAddress, out fault))
            {
                return fault!;
            }
        }

        if (!memory.Contains(new PhysAddr(cdAddress), ContextDescriptor.Size))
        {
            return new ContextConfig { StreamId = stream.StreamId, Index = index, Fault = SmmuEventType.FCdFetch, FaultAddress = cdAddress };
        }

        var cd = new ContextDescriptor(
            memory.ReadU64(new PhysAddr(cdAddress)), memory.ReadU64(new PhysAddr(cdAddress + 8)),
            memory.ReadU64(new PhysAddr(cdAddress + 16)), memory.ReadU64(new PhysAddr(cdAddress + 24)));
        return DecodeCd(stream.StreamId, index, new PhysAddr(cdAddress), cd);
    }

    private StreamConfig DecodeSte(uint sid, PhysAddr address, StreamTableEntry ste)
    {
        StreamConfig Bad() => new() { StreamId = sid, Address = address, Entry = ste, Fault = SmmuEventType.CBadSte };

        if (!ste.Valid)
        {
            return Bad();
        }

        ulong raw = ste.RawConfig;
        if (raw is >= 1 and <= 3)
        {
            return Bad();
        }

        var config = (SteConfig)raw;
        bool s1 = config is SteConfig.S1Translate or SteConfig.Nested;
        bool s2 = config is SteConfig.S2Translate or SteConfig.Nested;
        if ((s1 && !id.Stage1) || (s2 && !id.Stage2))
        {
            return Bad();
        }

        if (s1)
        {
            bool twoLevel = ste.S1Fmt != CdTableFormat.Linear;
            if ((int)ste.S1Fmt > 2 || (twoLevel && !id.TwoLevelCdTable) || ste.S1CdMax > id.SsidBits
                || (ste.S1CdMax > 0 && (int)ste.S1Dss == 3))
            {
                return Bad();
            }
        }

        WalkContext s2Walk = default;
        if (s2)
        {
            if (!ste.S2Aa64 || ste.S2Endi || !Granules.TryFromTg0(ste.S2Tg, out TranslationGranule granule) || !id.Supports(granule))
            {
                return Bad();
            }

            int inputBits = 64 - ste.S2T0Sz;
            int startLevel = StreamTableEntry.Stage2StartLevel(granule, ste.S2Sl0);
            int outputBits = Math.Min(AddressSize.ToBits(ste.S2Ps), id.OutputBits);
            if (ste.S2T0Sz < MinTxSz || ste.S2T0Sz > MaxTxSz || inputBits > id.OutputBits || startLevel < 0)
            {
                return Bad();
            }

            // The start level resolves the bits above its shift; more than a stride means concatenated tables, at most 16.
            int startBits = inputBits - granule.LevelShift(startLevel);
            if (startBits < 1 || startBits > granule.Stride() + 4 || ste.S2Ttb.Value >= 1UL << outputBits)
            {
                return Bad();
            }

            s2Walk = new WalkContext(ste.S2Ttb, granule, inputBits, startLevel, outputBits, Stage2: true, ste.S2Affd, HierarchicalDisable: true);
        }

        return new StreamConfig
        {
            StreamId = sid,
            Address = address,
            Entry = ste,
            Config = config,
            Vmid = id.Stage2 ? ste.S2Vmid : (ushort)0,
            Stage2Walk = s2Walk,
            RecordStage2 = ste.S2Record,
        };
    }

    private ContextConfig DecodeCd(uint sid, uint index, PhysAddr address, ContextDescriptor cd)
    {
        ContextConfig Bad() => new() { StreamId = sid, Index = index, Address = address, Descriptor = cd, Fault = SmmuEventType.CBadCd };

        if (!cd.Valid || !cd.Aa64 || cd.Endi || (id.TermModel && !cd.Abort) || (cd.Stall && id.StallModel == 1)
            || (cd.Ha && id.Httu < 1) || (cd.Hd && id.Httu < 2)) // HA/HD need IDR0.HTTU
        {
            return Bad();
        }

        int outputBits = Math.Min(AddressSize.ToBits(cd.Ips), id.OutputBits);
        WalkContext walk = default;
        if (!cd.Epd0)
        {
            if (!Granules.TryFromTg0(cd.Tg0, out TranslationGranule granule) || !id.Supports(granule)
                || cd.T0Sz < MinTxSz || cd.T0Sz > MaxTxSz || cd.Ttb0.Value >= 1UL << outputBits)
            {
                return Bad();
            }

            int inputBits = 64 - cd.T0Sz;
            walk = new WalkContext(cd.Ttb0, granule, inputBits, granule.StartLevel(inputBits), outputBits, Stage2: false, cd.Affd, cd.Had0,
                HardwareAccess: cd.Ha, HardwareDirty: cd.Ha && cd.Hd); // dirty-state updates work only with AF updates on
        }

        return new ContextConfig
        {
            StreamId = sid,
            Index = index,
            Address = address,
            Descriptor = cd,
            Asid = id.Asid16 ? cd.Asid : (ushort)(cd.Asid & 0xFF),
            Epd0 = cd.Epd0,
            Walk = walk,
            Record = cd.Record,
        };
    }

    // A CD-table address is an IPA when stage 2 is enabled (nested): translate it, or report the stage-2 fault.
    private bool TryOutput(StreamConfig stream, ulong address, uint index, out ulong physical, out ContextConfig? fault)
    {
        fault = null;
        physical = address;
        if (!stream.Stage2)
        {
            return true;
        }

        WalkFault result = VmsaWalker.Walk(memory, stream.Stage2Walk, address, out Translation translation, out _, out _);
        if (result == WalkFault.None && translation.Allows(DmaAccess.Read))
        {
            physical = translation.OutputFor(new Iova(address)).Value;
            return true;
        }

        fault = new ContextConfig
        {
            StreamId = stream.StreamId,
            Index = index,
            Fault = SmmuV3Hardware.EventFor(result),
            FaultAtStage2 = true,
            FaultAddress = address,
        };
        return false;
    }
}
