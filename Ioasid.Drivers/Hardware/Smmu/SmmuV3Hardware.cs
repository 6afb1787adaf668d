using System;
using System.Runtime.CompilerServices;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// An ARM SMMUv3 as hardware (drivers.md §3, §4.2): ID registers from <see cref="IdRegisters"/>, the control
/// registers, a linear or two-level stream table, linear or two-level CD tables, VMSAv8-64 stage-1 / stage-2 /
/// nested walks in 4, 16 and 64 KiB granules, a command queue and an event queue in memory, a configuration cache,
/// an <see cref="Iotlb"/> tagged by (VMID, ASID, stages), the ATCs of ATS endpoints (<see cref="Ats"/>, the shared
/// <see cref="DeviceTlb"/>) and the shared opt-in <see cref="StaleTranslationChecker"/>.
/// It never calls driver code: software programs it through <see cref="WriteRegister32"/>/<see cref="WriteRegister64"/>,
/// memory, and commands; devices reach memory through <see cref="Translate"/> and <see cref="Dma"/>.
/// </summary>
/// <remarks>
/// <para>
/// Commands execute synchronously when CMDQ_PROD is written. Configuration is read through the configuration cache
/// and used until a CFGI command drops it. Only successful walks are cached; a fresh mapping needs no invalidation.
/// Event records go to the in-memory event queue in the architected format (dropped, with the overflow flag, when it
/// is full or disabled) and to <see cref="Events"/>, a bounded log for inspection.
/// </para>
/// <para>
/// ATS: DMA from an endpoint with ATS enabled looks in its ATC first; a hit is a translated transaction, allowed when
/// STE.EATS != 0 (else F_TRANSL_FORBIDDEN); a miss is a translation request answered through the TLB and tables (or
/// F_BAD_ATS_TREQ when EATS = 0) and cached by the endpoint. ATC_INV reaches the endpoint's ATC; TLBIs never do.
/// EATS = 2 (split-stage ATS) is treated as full ATS.
/// </para>
/// <para>
/// Not modelled: TTB1 (an address outside TTB0's range faults), TBI, stalls and PRI, HTTU, the ATC_INV Global bit,
/// big-endian tables, 52-bit output addresses, Secure state. Transactions with a
/// SubstreamID on a stream whose stage 1 is not enabled raise C_BAD_SUBSTREAMID.
/// </para>
/// <para>Not thread-safe.</para>
/// </remarks>
public sealed class SmmuV3Hardware : IDmaTranslator
{
    /// <summary>The default IOTLB capacity.</summary>
    public const int DefaultIotlbCapacity = 1024;

    private const ulong NoKey = ulong.MaxValue;

    // IOTLB vendor data: stage 1's grant in bits [1:0], stage 2's in [3:2], and this flag for a writable-clean leaf.
    private const ulong WritableCleanFlag = 1UL << 4;

    private readonly PhysicalMemory _memory;
    private readonly ConfigFetcher _fetcher;
    private uint _cr0;
    private uint _gbpa = SmmuRegisters.GbpaAbort;
    private uint _gerror;
    private uint _gerrorn;
    private ulong _strtabBase;
    private uint _strtabCfg;
    private bool _nestedCached;

    private ulong _lastKey = NoKey;
    private long _lastGeneration;
    private ResolvedStream _last;
    private DeviceTlb? _lastDeviceTlb;

    /// <summary>Creates the SMMU over <paramref name="memory"/>, disabled, with GBPA = abort.</summary>
    /// <param name="memory">Where tables, queues and DMA targets live.</param>
    /// <param name="id">What the SMMU implements; the defaults when null.</param>
    /// <param name="streamIds">The platform's RID → StreamID wiring; the identity map when null.</param>
    /// <param name="iotlbCapacity">IOTLB entries held at most.</param>
    /// <param name="eventLogCapacity">Events kept in <see cref="Events"/>.</param>
    public SmmuV3Hardware(PhysicalMemory memory, IdRegisters? id = null, StreamIdMap? streamIds = null, int iotlbCapacity = DefaultIotlbCapacity, int eventLogCapacity = 256)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        Id = id ?? new IdRegisters();
        StreamIds = streamIds ?? StreamIdMap.Identity();
        _fetcher = new ConfigFetcher(memory, Id);
        Iotlb = new Iotlb(iotlbCapacity, [12, 14, 16, 21, 25, 29, 30]);
        Events = new FaultLog<SmmuEvent>(eventLogCapacity);
        Ats = new AtsEndpoints(() => _lastKey = NoKey);
    }

    /// <summary>The physical memory.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>What the SMMU implements.</summary>
    public IdRegisters Id { get; }

    /// <summary>The RID → StreamID wiring of the devices behind the SMMU.</summary>
    public StreamIdMap StreamIds { get; }

    /// <summary>The TLB.</summary>
    public Iotlb Iotlb { get; }

    /// <summary>The configuration cache.</summary>
    public ConfigCache ConfigCache { get; } = new();

    /// <summary>The command queue's registers.</summary>
    public SmmuQueue CommandQueue { get; } = new(SmmuCommand.Size);

    /// <summary>The event queue's registers.</summary>
    public SmmuQueue EventQueue { get; } = new(SmmuEvent.Size);

    /// <summary>Every event raised (recorded faults), for inspection; bounded.</summary>
    public FaultLog<SmmuEvent> Events { get; }

    /// <summary>The endpoints with ATS enabled and their ATCs: DMA from them goes through the ATC first; ATC_INV reaches them.</summary>
    public AtsEndpoints Ats { get; }

    /// <summary>The stale-translation checker; disabled until enabled.</summary>
    public StaleTranslationChecker StaleChecker { get; } = new();

    /// <summary>Translations requested.</summary>
    public long Translations { get; private set; }

    /// <summary>Table walks on TLB misses.</summary>
    public long Walks { get; private set; }

    /// <summary>Faults raised, recorded or not.</summary>
    public long FaultCount { get; private set; }

    /// <summary>Events lost because the event queue was full or disabled.</summary>
    public long EventsLost { get; private set; }

    /// <summary>Commands executed.</summary>
    public long CommandsExecuted { get; private set; }

    /// <summary>CMD_SYNCs completed.</summary>
    public long Syncs { get; private set; }

    /// <summary>ATC_INV commands executed.</summary>
    public long AtcInvalidations { get; private set; }

    /// <summary>Executed commands by opcode (index = opcode).</summary>
    public long[] CommandCounts { get; } = new long[256];

    /// <summary>Whether CR0.SMMUEN is set.</summary>
    public bool Enabled => (_cr0 & SmmuRegisters.Cr0SmmuEn) != 0;

    /// <summary>Reads a 32-bit register.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a modelled register.</exception>
    public uint ReadRegister32(int offset) => offset switch
    {
        SmmuRegisters.Idr0 => Id.Idr0,
        SmmuRegisters.Idr1 => Id.Idr1,
        SmmuRegisters.Idr2 => Id.Idr2,
        SmmuRegisters.Idr3 => Id.Idr3,
        SmmuRegisters.Idr4 => Id.Idr4,
        SmmuRegisters.Idr5 => Id.Idr5,
        SmmuRegisters.Iidr => Id.ImplementationId,
        SmmuRegisters.Aidr => Id.ArchitectureId,
        SmmuRegisters.Cr0 or SmmuRegisters.Cr0Ack => _cr0,
        SmmuRegisters.Gbpa => _gbpa,
        SmmuRegisters.Gerror => _gerror,
        SmmuRegisters.Gerrorn => _gerrorn,
        SmmuRegisters.StrtabBaseCfg => _strtabCfg,
        SmmuRegisters.CmdqProd => CommandQueue.Prod,
        SmmuRegisters.CmdqCons => CommandQueue.Cons,
        SmmuRegisters.EvtqProd => EventQueue.Prod,
        SmmuRegisters.EvtqCons => EventQueue.Cons,
        _ => throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} is not a modelled 32-bit register."),
    };

    /// <summary>Reads a 64-bit register.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a modelled register.</exception>
    public ulong ReadRegister64(int offset) => offset switch
    {
        SmmuRegisters.StrtabBase => _strtabBase,
        SmmuRegisters.CmdqBase => CommandQueue.BaseRegister,
        SmmuRegisters.EvtqBase => EventQueue.BaseRegister,
        _ => throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} is not a modelled 64-bit register."),
    };

    /// <summary>Writes a 32-bit register. Writing CMDQ_PROD executes the commands up to it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a writable modelled register.</exception>
    public void WriteRegister32(int offset, uint value)
    {
        if (offset is not (SmmuRegisters.CmdqProd or SmmuRegisters.EvtqCons))
        {
            _lastKey = NoKey; // configuration registers: re-resolve (queue pointers change nothing a stream resolved to)
        }

        switch (offset)
        {
            case SmmuRegisters.Cr0:
                _cr0 = value;
                break;
            case SmmuRegisters.Cr1:
            case SmmuRegisters.Cr2:
                break;
            case SmmuRegisters.Gbpa:
                if ((value & SmmuRegisters.GbpaUpdate) != 0)
                {
                    _gbpa = value & ~SmmuRegisters.GbpaUpdate;
                }

                break;
            case SmmuRegisters.Gerrorn:
                _gerrorn = value;
                if (((_gerror ^ _gerrorn) & SmmuRegisters.GerrorCmdqErr) == 0)
                {
                    ProcessCommands();
                }

                break;
            case SmmuRegisters.StrtabBaseCfg:
                _strtabCfg = value;
                break;
            case SmmuRegisters.CmdqProd:
                CommandQueue.Prod = value & CommandQueue.PointerMask;
                ProcessCommands();
                break;
            case SmmuRegisters.CmdqCons:
                CommandQueue.Cons = value;
                break;
            case SmmuRegisters.EvtqProd:
                EventQueue.Prod = value;
                break;
            case SmmuRegisters.EvtqCons:
                EventQueue.Cons = value;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} is not a writable 32-bit register.");
        }
    }

    /// <summary>Writes a 64-bit register (STRTAB_BASE, CMDQ_BASE, EVTQ_BASE).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a writable modelled register.</exception>
    public void WriteRegister64(int offset, ulong value)
    {
        _lastKey = NoKey;
        switch (offset)
        {
            case SmmuRegisters.StrtabBase:
                _strtabBase = value;
                break;
            case SmmuRegisters.CmdqBase:
                CommandQueue.SetBase(value);
                break;
            case SmmuRegisters.EvtqBase:
                EventQueue.SetBase(value);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x} is not a writable 64-bit register.");
        }
    }

    /// <summary>
    /// Translates the page holding <paramref name="request"/>'s first byte (drivers.md §3.9): GBPA when disabled, the
    /// STE (and CD) through the configuration cache, the TLB, a walk on a miss. Faults are recorded as events unless
    /// the configuration suppresses them (CD.R, STE.S2R, abort STEs).
    /// </summary>
    /// <exception cref="ArgumentException">The request's access is <see cref="DmaAccess.None"/>.</exception>
    public TranslationResult Translate(in DmaRequest request)
    {
        if (request.Access == DmaAccess.None)
        {
            throw new ArgumentException("A DMA must read, write or both.", nameof(request));
        }

        Translations++;
        if (!Enabled)
        {
            return (_gbpa & SmmuRegisters.GbpaAbort) != 0
                ? TranslationResult.Faulted(FaultReason.Blocked, 0)
                : Identity(request);
        }

        ulong key = ((ulong)request.Rid.Value << 21) | (request.Pasid is { } p ? (1UL << 20) | p.Value : 0);
        if (key != _lastKey || _lastGeneration != ConfigCache.Generation)
        {
            if (!TryResolve(request, out _last, out TranslationResult fault))
            {
                _lastKey = NoKey;
                return fault;
            }

            _lastKey = key;
            _lastGeneration = ConfigCache.Generation;
        }

        // Statements, not a switch expression: each result is returned straight into the caller's buffer instead of
        // through a temporary that is copied whole.
        switch (_last.Mode)
        {
            case ResolvedMode.Translate:
                return TranslateThroughTables(request, _last, out _);
            case ResolvedMode.Bypass:
                return Identity(request);
            case ResolvedMode.AtsEndpoint:
                return TranslateForAtsEndpoint(request);
            default:
                return TranslationResult.Faulted(FaultReason.Blocked, 0); // STE abort: silently, no event
        }
    }

    /// <summary>
    /// Performs <paramref name="request"/> on memory page by page (each page its own transaction) through the shared
    /// <see cref="DmaEngine"/>: a read fills <paramref name="buffer"/>, a write copies it out.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer length differs from the request's, or the access is not exactly read or write.</exception>
    public DmaResult Dma(in DmaRequest request, Span<byte> buffer) => DmaEngine.Transfer(this, request, buffer);

    /// <summary>The configuration the hardware uses for <paramref name="streamId"/> (through the cache), for dumps and tests.</summary>
    public StreamConfig LookupStream(uint streamId)
    {
        if (!ConfigCache.TryGetStream(streamId, out StreamConfig stream))
        {
            stream = _fetcher.FetchStream(streamId, _strtabBase, _strtabCfg);
            ConfigCache.Add(stream);
        }

        return stream;
    }

    internal static SmmuEventType EventFor(WalkFault fault) => fault switch
    {
        WalkFault.AddressSize => SmmuEventType.FAddrSize,
        WalkFault.Access => SmmuEventType.FAccess,
        WalkFault.Permission => SmmuEventType.FPermission,
        WalkFault.ExternalAbort => SmmuEventType.FWalkEabt,
        _ => SmmuEventType.FTranslation,
    };

    internal static FaultReason ReasonFor(SmmuEventType type) => type switch
    {
        SmmuEventType.FTranslation or SmmuEventType.FAccess => FaultReason.Translation,
        SmmuEventType.FAddrSize => FaultReason.AddressSize,
        SmmuEventType.FPermission => FaultReason.Permission,
        SmmuEventType.FSteFetch or SmmuEventType.FCdFetch or SmmuEventType.FWalkEabt => FaultReason.ExternalAbort,
        SmmuEventType.FStreamDisabled or SmmuEventType.FBadAtsTreq or SmmuEventType.FTranslForbidden => FaultReason.Blocked,
        _ => FaultReason.NoEntry,
    };

    private ContextConfig LookupContext(StreamConfig stream, uint index)
    {
        if (!ConfigCache.TryGetContext(stream.StreamId, index, out ContextConfig context))
        {
            context = _fetcher.FetchContext(stream, index);
            ConfigCache.Add(context);
        }

        return context;
    }

    // The stream's configuration, then — for a requester with ATS enabled and a stream that does not abort — the
    // device TLB in front of it.
    private bool TryResolve(in DmaRequest request, out ResolvedStream resolved, out TranslationResult fault)
    {
        if (!TryResolveStream(request, out resolved, out fault))
        {
            return false;
        }

        _lastDeviceTlb = Ats.Count == 0 || resolved.Mode == ResolvedMode.Abort ? null : Ats.Find(request.Rid);
        if (_lastDeviceTlb is not null)
        {
            resolved.InnerMode = resolved.Mode;
            resolved.Mode = ResolvedMode.AtsEndpoint;
        }

        return true;
    }

    private bool TryResolveStream(in DmaRequest request, out ResolvedStream resolved, out TranslationResult fault)
    {
        resolved = default;
        fault = default;
        if (!StreamIds.TryMap(request.Rid, out uint sid))
        {
            fault = Raise(request, 0, SmmuEventType.CBadStreamId, record: true);
            return false;
        }

        StreamConfig stream = LookupStream(sid);
        if (stream.Fault is { } steFault)
        {
            fault = Raise(request, sid, steFault, record: true, address: stream.FaultAddress);
            return false;
        }

        resolved.StreamId = sid;
        resolved.AtsAllowed = Id.Ats && stream.Entry.Eats != 0;
        if (stream.Config == SteConfig.Abort)
        {
            resolved.Mode = ResolvedMode.Abort;
            return true;
        }

        bool hasSsid = request.Pasid is not null;
        uint ssid = request.Pasid?.Value ?? 0;
        if (!stream.Stage1)
        {
            if (hasSsid)
            {
                fault = Raise(request, sid, SmmuEventType.CBadSubstreamId, record: true);
                return false;
            }

            SetStage2(ref resolved, stream);
            resolved.Mode = stream.Stage2 ? ResolvedMode.Translate : ResolvedMode.Bypass;
            resolved.Tag = SmmuTlbTag.Compose(false, true, stream.Vmid, 0);
            return true;
        }

        StreamTableEntry ste = stream.Entry;
        uint index;
        if (hasSsid)
        {
            if (ste.S1CdMax == 0 || ssid >= 1u << ste.S1CdMax || (ssid == 0 && ste.S1Dss == S1Dss.Substream0))
            {
                fault = Raise(request, sid, SmmuEventType.CBadSubstreamId, record: true);
                return false;
            }

            index = ssid;
        }
        else if (ste.S1CdMax == 0 || ste.S1Dss == S1Dss.Substream0)
        {
            index = 0;
        }
        else if (ste.S1Dss == S1Dss.Bypass)
        {
            SetStage2(ref resolved, stream);
            resolved.Mode = stream.Stage2 ? ResolvedMode.Translate : ResolvedMode.Bypass;
            resolved.Tag = SmmuTlbTag.Compose(false, true, stream.Vmid, 0);
            return true;
        }
        else
        {
            fault = Raise(request, sid, SmmuEventType.FStreamDisabled, record: true);
            return false;
        }

        ContextConfig context = LookupContext(stream, index);
        if (context.Fault is { } cdFault)
        {
            bool record = !context.FaultAtStage2 || stream.RecordStage2;
            fault = Raise(request, sid, cdFault, record, context.FaultAtStage2, SmmuEventClass.CdFetch, context.FaultAddress);
            return false;
        }

        SetStage2(ref resolved, stream);
        resolved.Mode = ResolvedMode.Translate;
        resolved.Stage1 = true;
        resolved.Epd0 = context.Epd0;
        resolved.Stage1Walk = context.Walk;
        resolved.RecordStage1 = context.Record;
        resolved.Tag = SmmuTlbTag.Compose(true, stream.Stage2, stream.Vmid, context.Asid);
        return true;
    }

    private static void SetStage2(ref ResolvedStream resolved, StreamConfig stream)
    {
        resolved.Stage2 = stream.Stage2;
        resolved.Stage2Walk = stream.Stage2Walk;
        resolved.RecordStage2 = stream.RecordStage2;
    }

    // Out of line, so that the hot path of requesters without ATS stays as small as before.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateForAtsEndpoint(in DmaRequest request)
    {
        ref readonly ResolvedStream resolved = ref _last;
        DeviceTlb deviceTlb = _lastDeviceTlb!;

        if (deviceTlb.TryLookup(request, out Translation cached))
        {
            if (!resolved.AtsAllowed)
            {
                return Raise(request, resolved.StreamId, SmmuEventType.FTranslForbidden, record: true);
            }

            if (StaleChecker.Enabled)
            {
                var walker = new StreamWalker(this, resolved);
                StaleChecker.CheckDeviceTlbHit(request, cached, ref walker);
            }

            return DeviceTlb.TranslatedRequest(cached, request.Iova, _memory);
        }

        if (!resolved.AtsAllowed)
        {
            return Raise(request, resolved.StreamId, SmmuEventType.FBadAtsTreq, record: true);
        }

        TranslationResult result;
        Translation translation;
        if (resolved.InnerMode == ResolvedMode.Bypass)
        {
            result = Identity(request);
            translation = Translation.IdentityPage(request.Iova.Value);
        }
        else
        {
            result = TranslateThroughTables(request, resolved, out translation);
        }

        if (result.IsSuccess)
        {
            deviceTlb.Fill(request, translation);
        }

        return result;
    }

    // The hit path; a miss goes to TranslateMiss, out of line, so that a hit runs in a small frame. Not inlined, and
    // every return is a call or a one-expression constructor: a struct-returning method inlined with several returns
    // makes the JIT build the result in a stack temporary and copy it whole, a store-forwarding stall per translation.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateThroughTables(in DmaRequest request, in ResolvedStream resolved, out Translation translation)
    {
        if (resolved.Stage1 && resolved.Epd0)
        {
            Unsafe.SkipInit(out translation);
            return Raise(request, resolved.StreamId, SmmuEventType.FTranslation, resolved.RecordStage1, false, SmmuEventClass.InputAddress);
        }

        // A writable-clean leaf (HTTU dirty state) is cached read-only: a write walks to make it dirty.
        if (!Iotlb.TryLookup(resolved.Tag, request.Iova.Value, out translation, out ulong permissionsByStage)
            || ((permissionsByStage & WritableCleanFlag) != 0 && (request.Access & DmaAccess.Write) != 0))
        {
            return TranslateMiss(request, resolved, out translation);
        }

        if (StaleChecker.Enabled)
        {
            CheckStale(request, resolved, translation);
        }

        if (!translation.Allows(request.Access) || !TryOutput(request.Iova.Value, translation, out ulong output, out ulong length))
        {
            return Reject(request, resolved, translation, permissionsByStage);
        }

        return TranslationResult.Translated(new PhysAddr(output), length, iotlbHit: true);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateMiss(in DmaRequest request, in ResolvedStream resolved, out Translation translation)
    {
        Walks++;
        ulong va = request.Iova.Value;
        if (!TryWalk(resolved, va, request.Access, update: true, out translation, out ulong permissionsByStage, out WalkOutcome outcome))
        {
            bool record = outcome.Stage2 ? resolved.RecordStage2 : (!resolved.Stage1 || resolved.RecordStage1); // no CD: nothing suppresses it
            return Raise(request, resolved.StreamId, EventFor(outcome.Fault), record, outcome.Stage2, outcome.Class, outcome.Address);
        }

        _nestedCached |= resolved.Stage1 && resolved.Stage2;
        Iotlb.Insert(resolved.Tag, translation, permissionsByStage);
        if (!translation.Allows(request.Access) || !TryOutput(va, translation, out ulong output, out ulong length))
        {
            return Reject(request, resolved, translation, permissionsByStage);
        }

        return TranslationResult.Translated(new PhysAddr(output), length, iotlbHit: false);
    }

    // The output address and the bytes to the end of its page, when the page lies in memory.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryOutput(ulong va, in Translation translation, out ulong output, out ulong length)
    {
        output = translation.OutputFor(new Iova(va)).Value;
        length = translation.RemainingFrom(new Iova(va));
        return _memory.Contains(new PhysAddr(output), length);
    }

    // A found translation that the access may not use (F_PERMISSION, at the stage that refused) or whose page lies
    // outside memory (an external abort, no event).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult Reject(in DmaRequest request, in ResolvedStream resolved, in Translation translation, ulong permissionsByStage)
    {
        if (translation.Allows(request.Access))
        {
            return TranslationResult.Faulted(FaultReason.ExternalAbort, 0);
        }

        // Which stage refused: stage 1's grant is in bits [1:0] of the vendor data, stage 2's in [3:2].
        bool stage1Allows = !resolved.Stage1 || (request.Access & ~(DmaAccess)(permissionsByStage & 3)) == 0;
        bool atStage2 = stage1Allows && resolved.Stage2;
        ulong ipa = atStage2 && !resolved.Stage1 ? request.Iova.Value : 0; // a nested hit no longer knows its IPA
        return Raise(request, resolved.StreamId, SmmuEventType.FPermission, atStage2 ? resolved.RecordStage2 : resolved.RecordStage1, atStage2, SmmuEventClass.InputAddress, ipa);
    }

    // Out of line: the checker's walker holds references, and such a struct in the translate frame would be zeroed by
    // the prolog on every translation, checked or not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckStale(in DmaRequest request, in ResolvedStream resolved, in Translation translation)
    {
        var walker = new StreamWalker(this, resolved);
        StaleChecker.Check(request, resolved.Tag, translation, ref walker);
    }

    private struct WalkOutcome
    {
        public WalkFault Fault;
        public bool Stage2;
        public SmmuEventClass Class;
        public ulong Address;
    }

    // The full walk of a resolved stream: stage 1, stage 2 or both (stage-1 tables fetched through stage 2).
    // With update, HTTU flag updates (CD.HA/HD) are written to memory; a writable-clean stage-1 leaf adds WritableCleanFlag.
    private bool TryWalk(in ResolvedStream resolved, ulong va, DmaAccess access, bool update, out Translation translation, out ulong permissionsByStage, out WalkOutcome outcome)
    {
        outcome = default;
        permissionsByStage = 0;
        ulong ipa = va;
        int s1Shift = 64;
        DmaAccess s1Permissions = DmaAccess.ReadWrite;

        // Each stage walks straight into the result; a struct copy of a just-written translation would stall on
        // store forwarding.
        if (resolved.Stage1)
        {
            // Stage 1 alone is the common case: with nested a constant false the inlined walker drops its stage-2 branches.
            WalkFault f = resolved.Stage2
                ? VmsaWalker.Walk(_memory, resolved.Stage1Walk, resolved.Stage2Walk, nested: true, va, access, update, out translation, out _, out ulong address, out bool atStage2, out bool writableClean)
                : VmsaWalker.Walk(_memory, resolved.Stage1Walk, default, nested: false, va, access, update, out translation, out _, out address, out atStage2, out writableClean);
            if (f != WalkFault.None)
            {
                outcome = new WalkOutcome { Fault = f, Stage2 = atStage2, Class = atStage2 ? SmmuEventClass.TableWalk : SmmuEventClass.InputAddress, Address = address };
                translation = default;
                return false;
            }

            ipa = translation.OutputFor(new Iova(va)).Value;
            s1Shift = translation.PageShift;
            s1Permissions = translation.Permissions;
            permissionsByStage = (ulong)s1Permissions | (writableClean ? WritableCleanFlag : 0);
            if (!resolved.Stage2)
            {
                permissionsByStage |= (ulong)DmaAccess.ReadWrite << 2;
                return true;
            }
        }
        else
        {
            permissionsByStage = (ulong)DmaAccess.ReadWrite;
            if (Id.OutputBits < 64 && (va >> Id.OutputBits) != 0)
            {
                // Stage 1 bypassed: an input beyond the IAS is a stage-1 address-size fault.
                outcome = new WalkOutcome { Fault = WalkFault.AddressSize, Class = SmmuEventClass.InputAddress };
                translation = default;
                return false;
            }
        }

        WalkFault f2 = VmsaWalker.Walk(_memory, resolved.Stage2Walk, ipa, out translation, out _, out _);
        if (f2 != WalkFault.None)
        {
            outcome = new WalkOutcome { Fault = f2, Stage2 = true, Class = SmmuEventClass.InputAddress, Address = ipa };
            translation = default;
            return false;
        }

        permissionsByStage |= (ulong)translation.Permissions << 2;
        if (!resolved.Stage1)
        {
            return true;
        }

        // Combined entry: the smaller of the two pages, both stages' permissions.
        int shift = Math.Min(s1Shift, translation.PageShift);
        ulong mask = (1UL << shift) - 1;
        translation = new Translation(new Iova(va & ~mask), new PhysAddr(translation.OutputFor(new Iova(ipa)).Value & ~mask), shift, s1Permissions & translation.Permissions);
        return true;
    }

    private TranslationResult Identity(in DmaRequest request)
    {
        ulong va = request.Iova.Value;
        ulong length = 0x1000 - (va & 0xFFF);
        return _memory.Contains(new PhysAddr(va), length)
            ? TranslationResult.Translated(new PhysAddr(va), length, iotlbHit: false)
            : TranslationResult.Faulted(FaultReason.ExternalAbort, 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult Raise(in DmaRequest request, uint sid, SmmuEventType type, bool record, bool stage2 = false, SmmuEventClass eventClass = SmmuEventClass.InputAddress, ulong address = 0)
    {
        FaultCount++;
        FaultReason reason = ReasonFor(type);
        if (record)
        {
            var evt = new SmmuEvent(request.Rid, request.Pasid, request.Iova, request.Access, reason, type, sid, stage2, eventClass, address);
            if (Events.IsFull)
            {
                Events.RecordDropped();
            }
            else
            {
                Events.TryRecord(evt);
            }

            WriteEvent(evt);
        }

        return TranslationResult.Faulted(reason, (uint)type);
    }

    private void WriteEvent(SmmuEvent evt)
    {
        SmmuQueue queue = EventQueue;
        if ((_cr0 & SmmuRegisters.Cr0EvtqEn) == 0 || queue.BaseRegister == 0)
        {
            EventsLost++;
            return;
        }

        if (queue.IsFull)
        {
            EventsLost++;

            // A new overflow: make OVFLG differ from the consumer's OVACKFLG.
            uint ack = queue.Cons & SmmuRegisters.QueueOverflowFlag;
            queue.Prod = (queue.Prod & ~SmmuRegisters.QueueOverflowFlag) | (ack ^ SmmuRegisters.QueueOverflowFlag);
            return;
        }

        Span<ulong> qwords = stackalloc ulong[4];
        evt.Encode(qwords);
        PhysAddr at = queue.EntryAddress(queue.Prod);
        for (int i = 0; i < 4; i++)
        {
            _memory.WriteU64(new PhysAddr(at.Value + ((ulong)i * 8)), qwords[i]);
        }

        queue.Prod = queue.Next(queue.Prod) | (queue.Prod & SmmuRegisters.QueueOverflowFlag);
    }

    private void ProcessCommands()
    {
        SmmuQueue queue = CommandQueue;
        if ((_cr0 & SmmuRegisters.Cr0CmdqEn) == 0 || ((_gerror ^ _gerrorn) & SmmuRegisters.GerrorCmdqErr) != 0 || queue.BaseRegister == 0)
        {
            return;
        }

        uint cons = queue.Cons & queue.PointerMask;
        uint prod = queue.Prod & queue.PointerMask;
        while (cons != prod)
        {
            PhysAddr at = queue.EntryAddress(cons);
            if (!_memory.Contains(at, SmmuCommand.Size))
            {
                StopOnError(cons, SmmuRegisters.CerrorAbt);
                return;
            }

            var command = new SmmuCommand(_memory.ReadU64(at), _memory.ReadU64(new PhysAddr(at.Value + 8)));
            if (!Execute(command))
            {
                StopOnError(cons, SmmuRegisters.CerrorIll);
                return;
            }

            cons = queue.Next(cons);
        }

        queue.Cons = cons;
    }

    private void StopOnError(uint cons, uint error)
    {
        CommandQueue.Cons = cons | (error << SmmuRegisters.CmdqConsErrShift);
        _gerror ^= SmmuRegisters.GerrorCmdqErr;
        if (((_gerror ^ _gerrorn) & SmmuRegisters.GerrorCmdqErr) == 0)
        {
            _gerror ^= SmmuRegisters.GerrorCmdqErr;
        }
    }

    private bool Execute(in SmmuCommand command)
    {
        CommandsExecuted++;
        CommandCounts[(int)command.Opcode]++;
        switch (command.Opcode)
        {
            case SmmuOpcode.PrefetchConfig:
            case SmmuOpcode.PrefetchAddr:
            case SmmuOpcode.PriResp:
            case SmmuOpcode.Resume:
            case SmmuOpcode.StallTerm:
                return true;
            case SmmuOpcode.CfgiSte:
                ConfigCache.InvalidateStream(command.Sid);
                return true;
            case SmmuOpcode.CfgiSteRange:
                if (command.Range >= 31)
                {
                    ConfigCache.InvalidateAll();
                }
                else
                {
                    ulong count = 2UL << command.Range;
                    ConfigCache.InvalidateStreams((uint)(command.Sid & ~(count - 1)), count);
                }

                return true;
            case SmmuOpcode.CfgiCd:
                ConfigCache.InvalidateContext(command.Sid, command.Ssid);
                return true;
            case SmmuOpcode.CfgiCdAll:
                ConfigCache.InvalidateContexts(command.Sid);
                return true;
            case SmmuOpcode.TlbiNhAll:
                Iotlb.InvalidateTag(SmmuTlbTag.Compose(true, false, command.Vmid, 0), SmmuTlbTag.Stage1 | SmmuTlbTag.VmidMask);
                return true;
            case SmmuOpcode.TlbiNhAsid:
                Iotlb.InvalidateTag(SmmuTlbTag.Compose(true, false, command.Vmid, command.Asid), SmmuTlbTag.Stage1 | SmmuTlbTag.VmidMask | SmmuTlbTag.AsidMask);
                return true;
            case SmmuOpcode.TlbiNhVa:
            {
                ulong size = RangeSize(command);
                Iotlb.InvalidateRange(SmmuTlbTag.Compose(true, false, command.Vmid, command.Asid), ulong.MaxValue, new Iova(command.Address), size);
                if (_nestedCached)
                {
                    Iotlb.InvalidateRange(SmmuTlbTag.Compose(true, true, command.Vmid, command.Asid), ulong.MaxValue, new Iova(command.Address), size);
                }

                return true;
            }

            case SmmuOpcode.TlbiNhVaa:
                Iotlb.InvalidateRange(SmmuTlbTag.Compose(true, false, command.Vmid, 0), SmmuTlbTag.Stage1 | SmmuTlbTag.VmidMask, new Iova(command.Address), RangeSize(command));
                return true;
            case SmmuOpcode.TlbiS2Ipa:
                Iotlb.InvalidateRange(SmmuTlbTag.Compose(false, true, command.Vmid, 0), ulong.MaxValue, new Iova(command.Address), RangeSize(command));
                return true;
            case SmmuOpcode.TlbiS12Vmall:
                Iotlb.InvalidateTag(SmmuTlbTag.Compose(false, false, command.Vmid, 0), SmmuTlbTag.VmidMask);
                return true;
            case SmmuOpcode.TlbiNsnhAll:
            case SmmuOpcode.TlbiEl2All:
                Iotlb.InvalidateAll();
                _nestedCached = false;
                return true;
            case SmmuOpcode.AtcInv:
                AtcInvalidations++;
                InvalidateAtc(command);
                return true;
            case SmmuOpcode.CmdSync:
                Syncs++;
                if (command.SyncCs == SmmuCommand.SyncCsIrq && command.SyncMsiAddress.Value != 0 && _memory.Contains(command.SyncMsiAddress, 4))
                {
                    _memory.WriteU32(command.SyncMsiAddress, command.SyncMsiData);
                }

                return true;
            default:
                return false;
        }
    }

    // ATC_INV: an ATS invalidation request to the endpoint(s) behind SID for 2^Size pages at Addr; SSV = 0 also drops
    // the range's PASID-tagged entries (drivers.md §3.4.1, "ATS and SSID 0"). Size 52 or more covers everything.
    private void InvalidateAtc(in SmmuCommand command)
    {
        if (Ats.Count == 0)
        {
            return;
        }

        int log2Pages = command.AtcSize;
        ulong size = log2Pages >= 52 ? ulong.MaxValue : 0x1000UL << log2Pages;
        Iova start = log2Pages >= 52 ? Iova.Zero : new Iova(command.Address & ~(size - 1));
        Pasid? pasid = command.Ssv ? new Pasid(command.Ssid) : null;
        foreach (DeviceTlb atc in Ats.DeviceTlbs)
        {
            if (StreamIds.TryMap(atc.Rid, out uint sid) && sid == command.Sid)
            {
                atc.Invalidate(pasid, start, size);
            }
        }
    }

    // A TLBI's extent: with range invalidation and TG != 0, (NUM + 1) · 2^SCALE pages of the TG granule; otherwise
    // the single address (every entry containing it).
    private ulong RangeSize(in SmmuCommand command)
    {
        if (Id.RangeInvalidation && Granules.TryFromTlbi(command.Tg, out TranslationGranule granule))
        {
            ulong pages = (ulong)(command.Num + 1) << command.Scale;
            return pages << granule.PageShift();
        }

        return 1;
    }

    private readonly struct StreamWalker(SmmuV3Hardware hardware, ResolvedStream resolved) : ITranslationWalker
    {
        public bool TryWalk(Iova iova, out Translation translation) =>
            hardware.TryWalk(resolved, iova.Value, DmaAccess.Read, update: false, out translation, out _, out _);
    }
}
