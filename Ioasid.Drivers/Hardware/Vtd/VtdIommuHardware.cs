using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// One Intel VT-d remapping unit as hardware: MMIO registers (<see cref="VtdRegisters"/>), a root → context →
/// PASID-directory → PASID-table → page-table walker over <see cref="PhysicalMemory"/>, a context cache, a PASID
/// cache, an <see cref="Iotlb"/> tagged (DID, PASID, stage), the invalidation queue, fault-recording registers, the
/// device TLBs of ATS endpoints (<see cref="Ats"/>) and an opt-in <see cref="StaleTranslationChecker"/>. It never calls driver code: the driver writes tables into memory and
/// programs registers; devices reach memory through <see cref="Translate"/> and <see cref="Dma"/>.
/// </summary>
/// <remarks>
/// <para>
/// Caches follow the spec: present context and PASID entries are cached until a context-cache or PASID-cache
/// invalidation drops them; leaf translations are cached until an IOTLB or PASID-based IOTLB invalidation does. With
/// CAP.CM = 0 nothing not-present is cached; with CM = 1 a not-present leaf is cached as a negative entry, so a driver
/// that forgets <c>iotlb_sync_map</c> sees faults. Paging-structure caches are not modelled (IH is accepted and has no
/// effect). Pass-through results are not cached (as QEMU). Device TLBs live in the ATS endpoints (<see cref="Ats"/>):
/// DMA from them is a translated request on a device-TLB hit and a translation request (answered through the IOTLB and
/// tables, faults recorded as for any DMA) on a miss; a context entry without ATS (legacy TT other than 01b, scalable
/// DTE = 0) refuses both with fault Dh. Only device-TLB descriptors reach device TLBs; IOTLB descriptors never do.
/// </para>
/// <para>Not thread-safe: DMA and programming are serialised by the caller.</para>
/// </remarks>
public sealed partial class VtdIommuHardware : IDmaTranslator
{
    /// <summary>The default IOTLB capacity: 1024 entries (QEMU's).</summary>
    public const int DefaultIotlbCapacity = 1024;

    /// <summary>Start of the interrupt window: DMA output there is blocked (drivers.md §4.3.12).</summary>
    public const ulong InterruptWindowStart = 0xFEE0_0000;

    private const ulong NoKey = ulong.MaxValue;

    private readonly PhysicalMemory _memory;
    private readonly VtdPageWalker _walker;
    private readonly Dictionary<ushort, CachedContext> _contextCache = new();
    private readonly Dictionary<ulong, CachedPasidEntry> _pasidCache = new();

    private uint _gsts;
    private ulong _rtaddr;
    private ulong _activeRoot;
    private bool _scalableActive;

    private ulong _lastKey = NoKey;
    private ActiveConfig _active;
    private DeviceTlb? _lastDeviceTlb;

    // Tags that may have IOTLB entries (a superset: cleared by global invalidation only). Masked invalidations
    // (PSI across the PASIDs of a DID) visit these exact tags, so a page-selective invalidation probes a few slots
    // instead of sweeping the whole IOTLB.
    private readonly HashSet<ulong> _liveTags = new();
    private ulong _lastInsertedTag = ulong.MaxValue;

    /// <summary>Creates a unit named <paramref name="name"/> with <paramref name="capabilities"/> over <paramref name="memory"/>; translation starts disabled.</summary>
    public VtdIommuHardware(PhysicalMemory memory, VtdCapabilities? capabilities = null, string name = "dmar0", int iotlbCapacity = DefaultIotlbCapacity)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        Capabilities = capabilities ?? new VtdCapabilities();
        Capabilities.Validate();
        Name = name;
        Cap = Capabilities.Cap;
        Ecap = Capabilities.Ecap;
        _walker = new VtdPageWalker(memory, Capabilities);
        Iotlb = new Iotlb(iotlbCapacity, [12, 21, 30]);
        FaultRecorder = new VtdFaultRecorder(Capabilities.FaultRecords);
        Ats = new AtsEndpoints(() => _lastKey = NoKey);
    }

    /// <summary>The unit's name (<c>dmar0</c>, …).</summary>
    public string Name { get; }

    /// <summary>The capability set the registers were built from.</summary>
    public VtdCapabilities Capabilities { get; }

    /// <summary>CAP.</summary>
    public ulong Cap { get; }

    /// <summary>ECAP.</summary>
    public ulong Ecap { get; }

    /// <summary>The physical memory tables and DMA targets live in.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>The page-walk engine.</summary>
    public VtdPageWalker Walker => _walker;

    /// <summary>The IOTLB (tags: <see cref="VtdIotlbTag"/>).</summary>
    public Iotlb Iotlb { get; }

    /// <summary>The fault-recording registers and fault status.</summary>
    public VtdFaultRecorder FaultRecorder { get; }

    /// <summary>
    /// The endpoints behind the unit with ATS enabled and their device TLBs: DMA from them is looked up in their device
    /// TLB first (drivers.md §2.11); device-TLB invalidation descriptors reach them.
    /// </summary>
    public AtsEndpoints Ats { get; }

    /// <summary>The stale-translation checker; disabled until enabled.</summary>
    public StaleTranslationChecker StaleChecker { get; } = new();

    /// <summary>Whether GSTS.TES is set.</summary>
    public bool TranslationEnabled => (_gsts & VtdRegisters.TranslationEnable) != 0;

    /// <summary>Whether the latched root table is in scalable mode.</summary>
    public bool ScalableModeActive => _scalableActive;

    /// <summary>The latched root-table address.</summary>
    public PhysAddr RootTable => new(_activeRoot);

    /// <summary>Cached context entries.</summary>
    public int ContextCacheCount => _contextCache.Count;

    /// <summary>Cached PASID entries.</summary>
    public int PasidCacheCount => _pasidCache.Count;

    /// <summary>Translations requested.</summary>
    public long Translations { get; private set; }

    /// <summary>Table walks on IOTLB misses.</summary>
    public long Walks { get; private set; }

    /// <summary>Faults raised (recorded or not).</summary>
    public long FaultCount { get; private set; }

    /// <summary>Reads a 64-bit register.</summary>
    public ulong ReadRegister64(int offset)
    {
        int fro = VtdCapabilities.FaultRecordingOffset;
        if (offset >= fro && offset < fro + (16 * FaultRecorder.Records) && (offset & 7) == 0)
        {
            int index = (offset - fro) / 16;
            return FaultRecorder.Read(index, (offset - fro) % 16 / 8);
        }

        return offset switch
        {
            VtdRegisters.Capability => Cap,
            VtdRegisters.ExtendedCapability => Ecap,
            VtdRegisters.RootTableAddress => _rtaddr,
            VtdRegisters.QueueHead => _iqh,
            VtdRegisters.QueueTail => _iqt,
            VtdRegisters.QueueAddress => _iqa,
            VtdRegisters.QueueErrorRecord => _iqercd,
            _ => ReadRegister32(offset),
        };
    }

    /// <summary>Reads a 32-bit register.</summary>
    public uint ReadRegister32(int offset) => offset switch
    {
        VtdRegisters.Version => 0x10,
        VtdRegisters.GlobalStatus => _gsts,
        VtdRegisters.FaultStatus => FaultRecorder.Status | _fstsQueue,
        VtdRegisters.FaultEventControl => (FaultRecorder.InterruptMasked ? VtdRegisters.InterruptMask : 0) | (FaultRecorder.InterruptPending ? VtdRegisters.InterruptPending : 0),
        VtdRegisters.CompletionStatus => _ics,
        _ => 0,
    };

    /// <summary>Writes a 64-bit register.</summary>
    public void WriteRegister64(int offset, ulong value)
    {
        int fro = VtdCapabilities.FaultRecordingOffset;
        if (offset >= fro && offset < fro + (16 * FaultRecorder.Records) && (offset - fro) % 16 == 8)
        {
            FaultRecorder.WriteHigh((offset - fro) / 16, value);
            return;
        }

        switch (offset)
        {
            case VtdRegisters.RootTableAddress:
                _rtaddr = value;
                break;
            case VtdRegisters.QueueAddress:
                _iqa = value;
                break;
            case VtdRegisters.QueueTail:
                _iqt = value & QueueOffsetMask;
                ProcessQueue();
                break;
            default:
                WriteRegister32(offset, (uint)value);
                break;
        }
    }

    /// <summary>Writes a 32-bit register.</summary>
    public void WriteRegister32(int offset, uint value)
    {
        switch (offset)
        {
            case VtdRegisters.GlobalCommand:
                GlobalCommand(value);
                break;
            case VtdRegisters.FaultStatus:
                FaultRecorder.WriteStatus(value);
                if ((value & VtdRegisters.InvalidationQueueError) != 0 && (_fstsQueue & VtdRegisters.InvalidationQueueError) != 0)
                {
                    _fstsQueue &= ~VtdRegisters.InvalidationQueueError;
                    _iqercd = 0;
                    ProcessQueue();
                }

                break;
            case VtdRegisters.FaultEventControl:
                FaultRecorder.InterruptMasked = (value & VtdRegisters.InterruptMask) != 0;
                if (!FaultRecorder.InterruptMasked)
                {
                    FaultRecorder.InterruptPending = false;
                }

                break;
            case VtdRegisters.CompletionStatus:
                _ics &= ~(value & VtdRegisters.WaitComplete);
                break;
        }
    }

    private void GlobalCommand(uint command)
    {
        // GCMD commands are one-shot: SRTP latches RTADDR; TE and QIE are levels mirrored into GSTS.
        if ((command & VtdRegisters.SetRootTablePointer) != 0)
        {
            _activeRoot = _rtaddr & RootEntry.PageMask;
            _scalableActive = (_rtaddr & VtdRegisters.ScalableModeTables) != 0 && Capabilities.ScalableMode;
            _gsts |= VtdRegisters.SetRootTablePointer;
            DropAllCaches(); // as QEMU and CAP.ESRTPS: a new root pointer starts from empty caches
        }

        SetStatus(VtdRegisters.TranslationEnable, (command & VtdRegisters.TranslationEnable) != 0);
        bool queue = (command & VtdRegisters.QueuedInvalidationEnable) != 0;
        if (queue && (_gsts & VtdRegisters.QueuedInvalidationEnable) == 0)
        {
            _iqh = 0;
        }

        SetStatus(VtdRegisters.QueuedInvalidationEnable, queue);
    }

    private void SetStatus(uint bit, bool on) => _gsts = on ? _gsts | bit : _gsts & ~bit;

    private void DropAllCaches()
    {
        _contextCache.Clear();
        _pasidCache.Clear();
        Iotlb.InvalidateAll();
        _liveTags.Clear();
        _lastInsertedTag = ulong.MaxValue;
        _lastKey = NoKey;
    }

    /// <summary>
    /// Translates the page holding <paramref name="request"/>'s first byte (drivers.md §2.9): through the context and
    /// PASID caches and the IOTLB, walking on misses. Faults are recorded in the fault-recording registers unless FPD
    /// or the recording rules drop them.
    /// </summary>
    public TranslationResult Translate(in DmaRequest request)
    {
        if (request.Access == DmaAccess.None)
        {
            throw new ArgumentException("A DMA must read, write or both.", nameof(request));
        }

        Translations++;
        if ((_gsts & VtdRegisters.TranslationEnable) == 0)
        {
            return Untranslated(request.Iova.Value);
        }

        ulong key = ((ulong)request.Rid.Bdf << 32) | (request.Pasid is { } p ? (1UL << 31) | p.Value : 0);
        if (key != _lastKey)
        {
            VtdFaultReason code = Resolve(request, out VtdTranslationConfig resolved, out bool fpd);
            if (code != VtdFaultReason.None)
            {
                return Fault(request, code, fpd);
            }

            _lastKey = key;
            _active = new ActiveConfig(resolved, _walker);
            _lastDeviceTlb = Ats.Count == 0 ? null : Ats.Find(request.Rid);
        }

        // By reference: the configuration is not copied per translation.
        ref readonly ActiveConfig active = ref _active;
        if (_lastDeviceTlb is { } deviceTlb)
        {
            return TranslateForAtsEndpoint(request, active, deviceTlb);
        }

        // Statements, not a conditional expression: the result is returned straight into the caller's buffer.
        if (active.Config.Kind == VtdTranslationKind.PassThrough)
        {
            return PassThrough(request, active.Config);
        }

        return TranslateThroughTables(request, active, out _);
    }

    /// <summary>
    /// The configuration a request from <paramref name="rid"/> (with <paramref name="pasid"/>) resolves to, read from
    /// memory now, bypassing and filling no cache; for dumps and tests.
    /// </summary>
    public VtdFaultReason ResolveUncached(Rid rid, Pasid? pasid, out VtdTranslationConfig config)
    {
        var request = new DmaRequest(rid, pasid, Iova.Zero, 1, DmaAccess.Read);
        return Resolve(request, out config, out _, useCaches: false);
    }

    /// <summary>
    /// Performs <paramref name="request"/> on memory a page at a time (each page its own transaction): a read fills
    /// <paramref name="buffer"/>, a write copies it out. A fault stops the DMA after the pages before it.
    /// </summary>
    public DmaResult Dma(in DmaRequest request, Span<byte> buffer) => DmaEngine.Transfer(this, request, buffer);

    // Pass-through: the address is the output, except that a request with PASID may not reach the interrupt window.
    private TranslationResult PassThrough(in DmaRequest request, in VtdTranslationConfig config)
    {
        ulong va = request.Iova.Value;
        return request.Pasid is not null && (va >> 20) == (InterruptWindowStart >> 20)
            ? Fault(request, VtdFaultReason.ScalableInterruptRange, config.FaultProcessingDisabled)
            : Untranslated(va);
    }

    private TranslationResult Untranslated(ulong va)
    {
        ulong length = 0x1000 - (va & 0xFFF);
        return _memory.Contains(new PhysAddr(va), length)
            ? TranslationResult.Translated(new PhysAddr(va), length, iotlbHit: false)
            : TranslationResult.Faulted(FaultReason.ExternalAbort, 0);
    }

    // The hit path: range check, IOTLB lookup, the final checks. Everything a miss needs is in TranslateMiss, so a
    // hit runs in a small frame. Not inlined, and every return is a call or a one-expression constructor: a
    // struct-returning method inlined with several returns makes the JIT build the result in a stack temporary and
    // copy it whole, a store-forwarding stall on every translation.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateThroughTables(in DmaRequest request, in ActiveConfig active, out Translation translation)
    {
        ulong va = request.Iova.Value;
        if (active.FirstStage ? !IsCanonical(va, active.CanonicalShift) : va >= active.SecondStageLimit)
        {
            Unsafe.SkipInit(out translation);
            return Fault(request, active.FirstStage ? VtdFaultReason.NonCanonical : VtdFaultReason.AddressBeyondWidth, active.Config.FaultProcessingDisabled);
        }

        // A cached entry with flags is a negative entry (caching mode) or a writable-clean leaf a write must walk for.
        if (!Iotlb.TryLookup(active.Tag, va, out translation, out ulong cachedFlags)
            || (cachedFlags != 0 && ((cachedFlags & VtdPageWalker.NotPresentFlag) != 0 || (request.Access & DmaAccess.Write) != 0)))
        {
            return TranslateMiss(request, active, cachedFlags, out translation);
        }

        if (StaleChecker.Enabled)
        {
            CheckStale(request, active.Config, translation);
        }

        VtdFaultReason check = FinalCheck(request, active, translation, out ulong output, out ulong length);
        if (check != VtdFaultReason.None)
        {
            return Reject(request, active, check);
        }

        return TranslationResult.Translated(new PhysAddr(output), length, iotlbHit: true);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsCanonical(ulong va, int signShift)
    {
        long sign = (long)va >> signShift;
        return sign == 0 || sign == -1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult TranslateMiss(in DmaRequest request, in ActiveConfig active, ulong cachedFlags, out Translation translation)
    {
        ref readonly VtdTranslationConfig config = ref active.Config;
        if ((cachedFlags & VtdPageWalker.NotPresentFlag) != 0)
        {
            Unsafe.SkipInit(out translation);
            return Fault(request, (VtdFaultReason)(byte)(cachedFlags >> 8), config.FaultProcessingDisabled);
        }

        // Otherwise a plain miss, or a write to a clean leaf (first stage, or second stage under SSADE), which walks
        // again so that D gets set.
        Walks++;
        ulong va = request.Iova.Value;
        VtdFaultReason code = _walker.Walk(config, va, request.Access, update: true, out translation, out ulong flags);
        if (code != VtdFaultReason.None)
        {
            if (Capabilities.CachingMode && code is VtdFaultReason.ReadNotPermitted or VtdFaultReason.WriteNotPermitted or VtdFaultReason.FirstStageNotPresent)
            {
                var negative = new Translation(new Iova(va & ~0xFFFUL), PhysAddr.Zero, 12, DmaAccess.None);
                Iotlb.Insert(active.Tag, negative, VtdPageWalker.NotPresentFlag | ((ulong)code << 8));
                NoteTag(active.Tag);
            }

            return Fault(request, code, config.FaultProcessingDisabled);
        }

        Iotlb.Insert(active.Tag, translation, flags);
        NoteTag(active.Tag);
        VtdFaultReason check = FinalCheck(request, active, translation, out ulong output, out ulong length);
        if (check != VtdFaultReason.None)
        {
            return Reject(request, active, check);
        }

        return TranslationResult.Translated(new PhysAddr(output), length, iotlbHit: false);
    }

    // Stands for "the output is outside memory" in FinalCheck: an external abort, not a recorded VT-d fault.
    private const VtdFaultReason OutsideMemory = (VtdFaultReason)0xFF;

    // The checks after a translation is found, hit or walk: permissions, the interrupt window, the end of memory.
    // Returns the fault (or OutsideMemory) rather than a result, so that callers build the result in place.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private VtdFaultReason FinalCheck(in DmaRequest request, in ActiveConfig active, in Translation translation, out ulong output, out ulong length)
    {
        output = translation.OutputFor(request.Iova).Value;
        length = translation.RemainingFrom(request.Iova);
        if (!translation.Allows(request.Access))
        {
            return (request.Access & DmaAccess.Read) != 0 && (translation.Permissions & DmaAccess.Read) == 0
                ? VtdFaultReason.ReadNotPermitted
                : active.FirstStage ? VtdFaultReason.FirstStageWriteNotPermitted : VtdFaultReason.WriteNotPermitted;
        }

        if ((output >> 20) == (InterruptWindowStart >> 20))
        {
            return active.Config.Scalable ? VtdFaultReason.ScalableInterruptRange : VtdFaultReason.InterruptRange;
        }

        return _memory.Contains(new PhysAddr(output), length) ? VtdFaultReason.None : OutsideMemory;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult Reject(in DmaRequest request, in ActiveConfig active, VtdFaultReason check) =>
        check == OutsideMemory
            ? TranslationResult.Faulted(FaultReason.ExternalAbort, 0)
            : Fault(request, check, active.Config.FaultProcessingDisabled);

    // Out of line: the checker's walker holds a reference, and a struct with a reference in Translate's own frame
    // would be zeroed by the prolog on every translation, checked or not.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckStale(in DmaRequest request, in VtdTranslationConfig config, in Translation translation)
    {
        var walker = new VtdStaleWalker(_walker, config);
        StaleChecker.Check(request, config.Tag, translation, ref walker);
    }

    private void NoteTag(ulong tag)
    {
        if (tag != _lastInsertedTag)
        {
            _liveTags.Add(tag);
            _lastInsertedTag = tag;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TranslationResult Fault(in DmaRequest request, VtdFaultReason code, bool faultProcessingDisabled)
    {
        FaultCount++;
        FaultRecorder.Record(request, code, faultProcessingDisabled);
        return TranslationResult.Faulted(VtdFaultRecord.ReasonOf(code), (uint)code);
    }

    private readonly record struct CachedContext(ulong Q0, ulong Q1);

    // The configuration a requester resolved to, with what every translation under it derives from it computed once.
    private readonly struct ActiveConfig(VtdTranslationConfig config, VtdPageWalker walker)
    {
        public readonly VtdTranslationConfig Config = config;
        public readonly ulong Tag = config.Tag;
        public readonly bool FirstStage = config.Kind != VtdTranslationKind.SecondStage;

        // Second stage: inputs at or above this are beyond the adjusted guest address width.
        public readonly ulong SecondStageLimit = config.Kind == VtdTranslationKind.SecondStage ? walker.SecondStageLimit(config.SecondStageLevels) : 0;

        // First stage: bits from here up must all equal bit 47 (4-level) or 56 (5-level).
        public readonly int CanonicalShift = config.FirstStageLevels == 5 ? 56 : 47;
    }

    private readonly record struct CachedPasidEntry(PasidEntry Entry, bool DirectoryFpd);
}
