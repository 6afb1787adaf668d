using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Smmu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The ARM SMMUv3 driver model (Linux's <c>arm-smmu-v3</c>): probes its SMMU's ID registers, builds the stream
/// table and the queues in memory and enables the SMMU; maps RIDs to StreamIDs through the firmware's
/// <see cref="StreamIdMap"/>; keeps per-device <see cref="SmmuMaster"/> data with the device's CD table; allocates
/// stage-1 (ASID) and stage-2 (VMID) paging domains and nested domains; and programs everything through memory,
/// registers and commands only (STE/CD writes followed by CFGI + CMD_SYNC, unmaps by TLBI + CMD_SYNC). Stage-1
/// domains track dirty pages (IOMMU_HWPT_ALLOC_DIRTY_TRACKING) when IDR0.HTTU has dirty-state updates.
/// </summary>
/// <remarks>
/// RID and PASID sharing follows the Linux driver (drivers.md §3.4.1): a stage-1 domain on the RID is CD 0 with
/// S1DSS = Substream0; identity or blocked on the RID while PASIDs are attached keeps the CD-table STE with S1DSS =
/// bypass or terminate; a stage-2 or nested RID domain and PASIDs exclude each other. ATS (drivers.md §3.10): a master
/// whose device has ATS on an SMMU with IDR0.ATS gets EATS = full ATS in every translating STE (a nested STE keeps the
/// user's EATS), ATS is enabled on the device once such an STE is in place, and every TLBI of its domains is followed
/// by ATC_INV for each (master, SSID) and a CMD_SYNC (<c>arm_smmu_atc_inv_domain</c>); attach changes flush the ATC
/// as <c>arm_smmu_attach_commit</c> does.
/// </remarks>
[IommuDriver(DriverNames.ArmSmmuV3)]
public sealed partial class SmmuV3Driver
{
    /// <summary>The MAIR Linux programs: attr0 normal non-cacheable (0x44), attr1 write-back (0xFF), attr2 device nGnRE (0x04).</summary>
    public const ulong Mair = 0x04_FF_44UL;

    /// <summary>ATC_INV Size meaning "every address" (<c>ATC_INV_SIZE_ALL</c>).</summary>
    public const int AtcInvSizeAll = 52;

    /// <summary>The software MSI window Linux reserves: 0x8000000, 1 MiB.</summary>
    public static readonly ReservedRegion SoftwareMsiWindow = new(new Iova(0x800_0000), 1UL << 20, ReservedRegionType.SwMsi);

    private readonly IommuCore _core;
    private readonly Func<PciDevice, bool> _claims;
    private readonly Dictionary<uint, SmmuMaster> _masters = new();

    /// <summary>Creates the driver and the hardware it drives; register it with <c>core.RegisterDriver(driver.Ops)</c>.</summary>
    /// <param name="core">The IOMMU core.</param>
    /// <param name="memory">The machine's memory.</param>
    /// <param name="unitName">The unit's name.</param>
    /// <param name="id">What the SMMU implements (defaults when null).</param>
    /// <param name="streamIds">The firmware's <c>iommu-map</c> (identity when null).</param>
    /// <param name="claims">Which PCI functions sit behind this SMMU (those the map covers by default).</param>
    public SmmuV3Driver(IommuCore core, PhysicalMemory memory, string unitName = "smmu0", IdRegisters? id = null, StreamIdMap? streamIds = null, Func<PciDevice, bool>? claims = null)
        : this(core, new SmmuV3Hardware(memory, id, streamIds), unitName, claims)
    {
    }

    /// <summary>Creates the driver for an existing <paramref name="hardware"/>.</summary>
    public SmmuV3Driver(IommuCore core, SmmuV3Hardware hardware, string unitName = "smmu0", Func<PciDevice, bool>? claims = null)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(hardware);
        _core = core;
        Hardware = hardware;
        Memory = hardware.Memory;
        StreamIds = hardware.StreamIds;
        _claims = claims ?? (_ => true);
        Features = IdRegisters.FromRaw(
            hardware.ReadRegister32(SmmuRegisters.Idr0), hardware.ReadRegister32(SmmuRegisters.Idr1),
            hardware.ReadRegister32(SmmuRegisters.Idr3), hardware.ReadRegister32(SmmuRegisters.Idr5));
        Unit = new SmmuUnit(unitName, this);
        Asids = new AsidAllocator(Features.Asid16 ? 16 : 8);
        Vmids = new VmidAllocator(Features.Vmid16 ? 16 : 8);
        Blocked = new SmmuBlockedDomain(this);
        Identity = new SmmuIdentityDomain(this);
        PreferredGranule = Features.Granule4K ? TranslationGranule.Size4K : Features.Granule16K ? TranslationGranule.Size16K : TranslationGranule.Size64K;

        // Reset: disable, program tables and queues, enable the queues, invalidate everything, then enable.
        hardware.WriteRegister32(SmmuRegisters.Cr0, 0);
        hardware.WriteRegister32(SmmuRegisters.Gbpa, SmmuRegisters.GbpaUpdate | SmmuRegisters.GbpaAbort);
        StreamTable = new StreamTable(hardware, Features);
        Commands = new SmmuCommandQueue(hardware, Math.Min(8, Features.CmdqShift));
        Events = new SmmuEventQueue(hardware, StreamIds, Math.Min(7, Features.EvtqShift));
        hardware.WriteRegister32(SmmuRegisters.Cr0, SmmuRegisters.Cr0CmdqEn | SmmuRegisters.Cr0EvtqEn);
        Commands.Add(SmmuCommand.CfgiAll());
        Commands.Add(SmmuCommand.TlbiNsnhAll());
        Commands.Sync();
        hardware.WriteRegister32(SmmuRegisters.Cr0, SmmuRegisters.Cr0CmdqEn | SmmuRegisters.Cr0EvtqEn | SmmuRegisters.Cr0SmmuEn);
    }

    /// <summary>The hardware model.</summary>
    public SmmuV3Hardware Hardware { get; }

    /// <summary>The memory tables and queues live in.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>The unit devices are probed onto.</summary>
    public SmmuUnit Unit { get; }

    /// <summary>What the SMMU implements, as read from its ID registers at probe.</summary>
    public IdRegisters Features { get; }

    /// <summary>The firmware's RID → StreamID map.</summary>
    public StreamIdMap StreamIds { get; }

    /// <summary>The stream table.</summary>
    public StreamTable StreamTable { get; }

    /// <summary>The command queue.</summary>
    public SmmuCommandQueue Commands { get; }

    /// <summary>The event queue reader.</summary>
    public SmmuEventQueue Events { get; }

    /// <summary>ASIDs of stage-1 domains.</summary>
    public AsidAllocator Asids { get; }

    /// <summary>VMIDs of stage-2 domains.</summary>
    public VmidAllocator Vmids { get; }

    /// <summary>The granule new paging domains use (Linux: the one matching PAGE_SIZE); must be implemented.</summary>
    public TranslationGranule PreferredGranule { get; set; }

    /// <summary>
    /// Whether stage-1 domains can track dirty pages: stage 1, IDR0.HTTU = access + dirty, and coherent table walks
    /// (the kernel's <c>arm_smmu_dbm_capable</c>: FEAT_HD and FEAT_COHERENCY).
    /// </summary>
    public bool SupportsDirtyTracking => Features.Stage1 && Features.HardwareDirty && Features.Coherent;

    /// <summary>The masters probed, by StreamID.</summary>
    public IReadOnlyCollection<SmmuMaster> Masters => _masters.Values;

    /// <summary>The static blocking domain.</summary>
    [IommuOp(IommuOpKind.BlockedDomain)]
    public SmmuBlockedDomain Blocked { get; }

    /// <summary>The static identity domain.</summary>
    [IommuOp(IommuOpKind.IdentityDomain)]
    public SmmuIdentityDomain Identity { get; }

    /// <summary>The master of <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">The device was not probed by this driver.</exception>
    public SmmuMaster MasterOf(IommuDevice device) =>
        device.DriverData as SmmuMaster is { } m && _masters.TryGetValue(m.StreamId, out SmmuMaster? mine) && mine == m
            ? m
            : throw new InvalidOperationException($"{device} is not behind {Unit}");

    internal Errno AttachRid(IommuDevice device, IommuDomain domain)
    {
        SmmuMaster master = MasterOf(device);
        IommuDomain? old = master.RidDomain;
        switch (domain)
        {
            case SmmuPagingDomain { Stage: SmmuStage.Stage1 } s1:
                if (s1.Driver != this)
                {
                    return Errno.EINVAL;
                }

                EnsureCdTable(master);
                master.RidDomain = domain;
                WriteCd(master, 0, s1.MakeCd());
                s1.AddInstall(master, 0);
                break;
            case SmmuPagingDomain { Stage: SmmuStage.Stage2 } s2:
                if (s2.Driver != this)
                {
                    return Errno.EINVAL;
                }

                if (master.Pasids.Count != 0)
                {
                    return Errno.EBUSY;
                }

                master.RidDomain = domain;
                s2.AddInstall(master, 0);
                break;
            case SmmuNestedDomain nested:
                if (nested.Parent.Driver != this)
                {
                    return Errno.EINVAL;
                }

                if (master.Pasids.Count != 0)
                {
                    return Errno.EBUSY; // a nested domain claims the RID and every PASID
                }

                master.RidDomain = domain;
                break;
            default:
                master.RidDomain = domain;
                break;
        }

        InstallSte(master);
        UpdateAts(master, 0);
        if (old is SmmuPagingDomain previous && !ReferenceEquals(previous, domain))
        {
            previous.RemoveInstall(master, 0);
            if (previous.Stage == SmmuStage.Stage1 && domain is not SmmuPagingDomain { Stage: SmmuStage.Stage1 } && master.CdTable is not null)
            {
                WriteCd(master, 0, default); // CD 0 no longer holds a RID domain
            }
        }

        return Errno.None;
    }

    internal Errno SetPasid(IommuDevice device, Pasid pasid, SmmuPagingDomain domain)
    {
        SmmuMaster master = MasterOf(device);
        if (domain.Stage != SmmuStage.Stage1 || domain.Driver != this || pasid.IsNoPasid || pasid.Value >= 1u << master.SsidBits)
        {
            return Errno.EINVAL;
        }

        if (master.RidDomain is SmmuNestedDomain)
        {
            return Errno.EBUSY; // the nested domain owns every PASID of the device
        }

        if (master.RidDomain is SmmuPagingDomain { Stage: SmmuStage.Stage2 })
        {
            return Errno.EINVAL;
        }

        EnsureCdTable(master);
        if (master.Pasids.TryGetValue(pasid.Value, out SmmuPagingDomain? old))
        {
            old.RemoveInstall(master, pasid.Value);
        }

        master.Pasids[pasid.Value] = domain;
        WriteCd(master, pasid.Value, domain.MakeCd());
        domain.AddInstall(master, pasid.Value);
        InstallSte(master);
        UpdateAts(master, pasid.Value);
        return Errno.None;
    }

    internal void ClearPasid(IommuDevice device, Pasid pasid)
    {
        SmmuMaster master = MasterOf(device);
        if (!master.Pasids.Remove(pasid.Value, out SmmuPagingDomain? old))
        {
            return;
        }

        old.RemoveInstall(master, pasid.Value);
        WriteCd(master, pasid.Value, default);

        // With the last PASID gone an identity/blocked RID drops back to a plain bypass/abort STE.
        InstallSte(master);
        UpdateAts(master, pasid.Value);
    }

    /// <summary>The STE the master's state calls for (drivers.md §3.4, §3.4.1).</summary>
    public StreamTableEntry ComputeSte(SmmuMaster master)
    {
        ArgumentNullException.ThrowIfNull(master);
        bool pasids = master.Pasids.Count != 0;
        StreamTableEntry ste = master.RidDomain switch
        {
            SmmuNestedDomain nested => nested.Ste,
            SmmuPagingDomain { Stage: SmmuStage.Stage2 } s2 => MakeS2Ste(s2),
            SmmuPagingDomain => MakeCdTableSte(master, S1Dss.Substream0),
            SmmuIdentityDomain => pasids ? MakeCdTableSte(master, S1Dss.Bypass) : MakeBypassSte(),
            _ => pasids ? MakeCdTableSte(master, S1Dss.Terminate) : StreamTable.Abort(),
        };

        // ATS for translating STEs of ATS masters (a CD table may serve PASIDs using ATS whatever S1DSS is; with
        // S1DSS = bypass "full ATS skipping stage 1"); never for plain bypass or abort. A nested STE keeps the user's EATS,
        // which an SMMU or device without ATS cannot honour.
        if (master.RidDomain is SmmuNestedDomain)
        {
            if (!master.AtsSupported)
            {
                ste.Eats = 0;
            }
        }
        else if (master.AtsSupported && ste.Config is SteConfig.S1Translate or SteConfig.S2Translate)
        {
            ste.Eats = StreamTableEntry.EatsFull;
        }

        return ste;
    }

    /// <summary>A bypass STE (SHCFG = incoming when attribute overrides exist).</summary>
    public StreamTableEntry MakeBypassSte() =>
        new() { Valid = true, Config = SteConfig.Bypass, Shcfg = Features.AttributeOverrides ? StreamTableEntry.ShcfgIncoming : 0 };

    /// <summary>A CD-table STE pointing at the master's CD table with <paramref name="s1dss"/>.</summary>
    public StreamTableEntry MakeCdTableSte(SmmuMaster master, S1Dss s1dss)
    {
        ArgumentNullException.ThrowIfNull(master);
        CdTable table = master.CdTable ?? throw new InvalidOperationException($"{master} has no CD table");
        return new StreamTableEntry
        {
            Valid = true,
            Config = SteConfig.S1Translate,
            S1Fmt = table.Format,
            S1ContextPtr = table.Base,
            S1CdMax = table.S1CdMax,
            S1Dss = s1dss,
            S1Cir = Features.Coherent ? StreamTableEntry.CacheWbra : 0,
            S1Cor = Features.Coherent ? StreamTableEntry.CacheWbra : 0,
            S1Csh = Features.Coherent ? StreamTableEntry.ShareInner : 2,
            S1StallDisable = true,
            Shcfg = Features.AttributeOverrides ? StreamTableEntry.ShcfgIncoming : 0,
        };
    }

    /// <summary>The stage-2 STE of <paramref name="domain"/>.</summary>
    public StreamTableEntry MakeS2Ste(SmmuPagingDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArmLpaePageTable table = domain.Table;
        return new StreamTableEntry
        {
            Valid = true,
            Config = SteConfig.S2Translate,
            S2Vmid = domain.Vmid,
            S2T0Sz = 64 - table.InputBits,
            S2Sl0 = StreamTableEntry.Stage2Sl0(table.Granule, table.StartLevel),
            S2Ir0 = 1,
            S2Or0 = 1,
            S2Sh0 = 3,
            S2Tg = table.Granule.Tg0Encoding(),
            S2Ps = AddressSize.FromBits(table.OutputBits),
            S2Aa64 = true,
            S2Ptw = true,
            S2Record = true,
            S2Ttb = table.Root,
        };
    }

    /// <summary>
    /// Invalidates [<paramref name="start"/>, +<paramref name="size"/>) of <paramref name="domain"/> by its tag and
    /// waits (Linux's <c>arm_smmu_tlb_inv_range_domain</c>): range TLBIs when the SMMU has RIL, else one per
    /// <paramref name="leafSize"/> page, or the whole tag when that would exceed 512 commands. A nest parent also
    /// gets TLBI_NH_ALL for its VMID (combined entries are not hit by TLBI_S2_IPA).
    /// </summary>
    public void InvalidateRange(SmmuPagingDomain domain, ulong start, ulong size, ulong leafSize, bool leaf)
    {
        ArgumentNullException.ThrowIfNull(domain);
        TranslationGranule granule = domain.Table.Granule;
        int tgShift = granule.PageShift();
        if (!Features.RangeInvalidation && size / Math.Max(leafSize, granule.PageSize()) >= 512)
        {
            Commands.Add(domain.Stage == SmmuStage.Stage1 ? SmmuCommand.TlbiNhAsid(0, domain.Asid) : SmmuCommand.TlbiS12Vmall(domain.Vmid));
            Commands.Sync();
            InvalidateAtcs(domain, start, size);
            return;
        }

        ulong end = start + size;
        ulong iova = start;
        if (Features.RangeInvalidation)
        {
            ulong pages = size >> tgShift;
            ulong tg = granule.TlbiEncoding();
            while (pages != 0)
            {
                int scale = System.Numerics.BitOperations.TrailingZeroCount(pages);
                ulong num = (pages >> scale) & 31;
                ulong chunk = num << scale;
                Commands.Add(Tlbi(domain, iova, leaf, tg, (int)num - 1, scale));
                iova += chunk << tgShift;
                pages -= chunk;
            }
        }
        else
        {
            ulong step = Math.Max(leafSize, granule.PageSize());
            for (; iova < end; iova += step)
            {
                Commands.Add(Tlbi(domain, iova, leaf, 0, 0, 0));
            }
        }

        if (domain.NestParent)
        {
            Commands.Add(SmmuCommand.TlbiNhAll(domain.Vmid));
        }

        Commands.Sync();
        InvalidateAtcs(domain, start, size);
    }

    /// <summary>Invalidates every cached translation of <paramref name="domain"/>'s tag and waits.</summary>
    public void InvalidateAll(SmmuPagingDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Commands.Add(domain.Stage == SmmuStage.Stage1 ? SmmuCommand.TlbiNhAsid(0, domain.Asid) : SmmuCommand.TlbiS12Vmall(domain.Vmid));
        Commands.Sync();
        InvalidateAtcs(domain, 0, 0);
    }

    /// <summary>
    /// The ATC_INV of [<paramref name="start"/>, start + <paramref name="size"/>) (size 0: everything) for one
    /// (StreamID, SSID), as <c>arm_smmu_atc_inv_to_cmd</c> encodes it: the smallest aligned power-of-two span of pages
    /// covering the range (Size = log2 of its page count, 52 = everything); SSV only for a real PASID.
    /// </summary>
    public static SmmuCommand AtcInvFor(uint streamId, uint ssid, ulong start, ulong size)
    {
        uint? substream = ssid == 0 ? null : ssid;
        if (size == 0)
        {
            return SmmuCommand.AtcInv(streamId, substream, 0, AtcInvSizeAll);
        }

        (ulong address, int log2Pages) = AddressMath.AlignedPageBlock(start, start + size - 1);
        return SmmuCommand.AtcInv(streamId, substream, address, log2Pages);
    }

    // arm_smmu_atc_inv_domain: ATC_INV for every ATS master the domain is installed for, at its SSID, then CMD_SYNC. A
    // nest parent's change reaches the ATS masters on nested domains over it as whole-ATC invalidations.
    private void InvalidateAtcs(SmmuPagingDomain domain, ulong start, ulong size)
    {
        bool any = false;
        IReadOnlyList<(SmmuMaster Master, uint Ssid)> installs = domain.Installs;
        for (int i = 0; i < installs.Count; i++)
        {
            (SmmuMaster master, uint ssid) = installs[i];
            if (master.AtsEnabled)
            {
                Commands.Add(AtcInvFor(master.StreamId, ssid, start, size));
                any = true;
            }
        }

        if (domain.NestParent)
        {
            foreach (SmmuMaster master in _masters.Values)
            {
                if (master.AtsEnabled && master.RidDomain is SmmuNestedDomain nested && ReferenceEquals(nested.Parent, domain))
                {
                    Commands.Add(AtcInvFor(master.StreamId, 0, 0, 0));
                    any = true;
                }
            }
        }

        if (any)
        {
            Commands.Sync();
        }
    }

    // arm_smmu_atc_inv_master: the whole ATC of the master for one SSID (0: every SSID), then CMD_SYNC.
    private void InvalidateAtc(SmmuMaster master, uint ssid)
    {
        Commands.Add(AtcInvFor(master.StreamId, ssid, 0, 0));
        Commands.Sync();
    }

    // arm_smmu_attach_commit's ATS half, after the STE is in place: ATS turned on → flush the ATC, then enable it on
    // the device; stays on → the translation of the attached SSID changed, flush it; turned off → flush everything and
    // disable it on the device.
    private void UpdateAts(SmmuMaster master, uint ssid)
    {
        bool ats = master.AtsSupported && master.Ste.Eats != 0;
        if (ats && !master.AtsEnabled)
        {
            InvalidateAtc(master, 0);
            Hardware.Ats.Enable(master.Device.Rid);
            master.AtsEnabled = true;
        }
        else if (ats)
        {
            InvalidateAtc(master, ssid);
        }
        else if (master.AtsEnabled)
        {
            InvalidateAtc(master, 0);
            Hardware.Ats.Disable(master.Device.Rid);
            master.AtsEnabled = false;
        }
    }

    internal void InstallSte(SmmuMaster master)
    {
        StreamTableEntry ste = ComputeSte(master);
        if (ste.Qw0 == master.Ste.Qw0 && ste.Qw1 == master.Ste.Qw1 && ste.Qw2 == master.Ste.Qw2 && ste.Qw3 == master.Ste.Qw3)
        {
            return;
        }

        StreamTable.Write(master.StreamId, ste);
        master.Ste = ste;
        Commands.Add(SmmuCommand.CfgiSte(master.StreamId));
        Commands.Sync();
    }

    private static SmmuCommand Tlbi(SmmuPagingDomain domain, ulong iova, bool leaf, ulong tg, int num, int scale) =>
        domain.Stage == SmmuStage.Stage1
            ? SmmuCommand.TlbiNhVa(0, domain.Asid, iova, leaf, tg, num, scale)
            : SmmuCommand.TlbiS2Ipa(domain.Vmid, iova, leaf, tg, num, scale);

    private void EnsureCdTable(SmmuMaster master) =>
        master.CdTable ??= new CdTable(Memory, master.SsidBits, Features.TwoLevelCdTable);

    private void WriteCd(SmmuMaster master, uint ssid, in ContextDescriptor cd)
    {
        bool newLeaf = master.CdTable!.Write(ssid, cd);
        Commands.Add(SmmuCommand.CfgiCd(master.StreamId, ssid, leaf: !newLeaf));
        Commands.Sync();
    }

    [IommuOp(IommuOpKind.ProbeDevice)]
    private IommuUnit ProbeDevice(IommuDevice device)
    {
        if (!_claims(device.Pci) || !StreamIds.TryMap(device.Rid, out uint sid) || sid >= 1UL << Features.SidBits)
        {
            throw new IoasidException(Errno.ENODEV, $"{device} is not behind {Unit}");
        }

        if (_masters.ContainsKey(sid))
        {
            throw new IoasidException(Errno.EEXIST, $"StreamID 0x{sid:x} of {device} is already in use");
        }

        if (StreamTable.EnsureEntry(sid))
        {
            Commands.Add(SmmuCommand.CfgiSte(sid, leaf: false));
            Commands.Sync();
        }

        var master = new SmmuMaster(device, sid, Math.Min(Features.SsidBits, device.Pci.PasidBits), Features.Ats && device.Pci.Ats);
        _masters.Add(sid, master);
        device.DriverData = master;
        return Unit;
    }

    [IommuOp(IommuOpKind.ReleaseDevice)]
    private void ReleaseDevice(IommuDevice device)
    {
        SmmuMaster master = MasterOf(device);
        (master.RidDomain as SmmuPagingDomain)?.RemoveInstall(master, 0);
        foreach (var (ssid, domain) in master.Pasids)
        {
            domain.RemoveInstall(master, ssid);
        }

        master.RidDomain = null;
        master.Pasids.Clear();
        InstallSte(master);
        UpdateAts(master, 0);
        master.CdTable?.Free();
        master.CdTable = null;
        _masters.Remove(master.StreamId);
        device.DriverData = null;
    }

    [IommuOp(IommuOpKind.DeviceGroup)]
    private IommuGroup DeviceGroup(IommuDevice device) => _core.Groups.PciDeviceGroup(device);

    [IommuOp(IommuOpKind.Capable)]
    private bool Capable(IommuDevice device, IommuCapability capability) => capability switch
    {
        IommuCapability.CacheCoherency or IommuCapability.EnforceCacheCoherency => Features.Coherent,
        IommuCapability.NoExec or IommuCapability.DeferredFlush => true,
        IommuCapability.DirtyTracking => SupportsDirtyTracking, // arm_smmu_dbm_capable
        _ => false,
    };

    [IommuOp(IommuOpKind.HwInfo)]
    private byte[] HwInfo(IommuDevice device, ref uint type)
    {
        if (type != 0 && type != SmmuHwInfo.Type)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"hw_info type {type} is not an SMMUv3 type");
        }

        type = SmmuHwInfo.Type;
        Span<uint> idr = stackalloc uint[6];
        for (int i = 0; i < 6; i++)
        {
            idr[i] = Hardware.ReadRegister32(SmmuRegisters.Idr0 + (4 * i));
        }

        return SmmuHwInfo.Encode(idr, Hardware.ReadRegister32(SmmuRegisters.Iidr), Hardware.ReadRegister32(SmmuRegisters.Aidr));
    }

    [IommuOp(IommuOpKind.GetResvRegions)]
    private void GetResvRegions(IommuDevice device, List<ReservedRegion> regions) => regions.Add(SoftwareMsiWindow);

    [IommuOp(IommuOpKind.DomainAllocPagingFlags)]
    private IommuDomain DomainAllocPagingFlags(IommuDevice device, uint flags, ReadOnlySpan<byte> userData)
    {
        const uint NestParent = (uint)HwptAllocFlags.NestParent;
        const uint DirtyTracking = (uint)HwptAllocFlags.DirtyTracking;
        const uint PasidCapable = (uint)HwptAllocFlags.Pasid;
        if (!userData.IsEmpty || (flags & ~(NestParent | DirtyTracking | PasidCapable)) != 0)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"unsupported paging-domain flags 0x{flags:x} or driver data");
        }

        // As arm_smmu_domain_alloc_paging_flags: DIRTY_TRACKING is a stage-1 domain on an SMMU with HTTU dirty-state
        // updates (and coherent walks); it does not combine with NEST_PARENT.
        bool dirtyTracking = (flags & DirtyTracking) != 0;
        if (dirtyTracking && ((flags & NestParent) != 0 || !SupportsDirtyTracking))
        {
            throw new IoasidException(Errno.EOPNOTSUPP, "dirty tracking needs a stage-1 domain on an SMMU with HTTU dirty-state updates");
        }

        MasterOf(device);
        bool stage2 = (flags & NestParent) != 0 || !Features.Stage1;
        if (stage2 && !Features.Stage2)
        {
            throw new IoasidException(Errno.EOPNOTSUPP, "this SMMU has no stage 2");
        }

        TranslationGranule granule = Features.Supports(PreferredGranule) ? PreferredGranule : TranslationGranule.Size4K;
        int oas = Math.Min(48, Features.OutputBits);
        return stage2
            ? new SmmuPagingDomain(this, SmmuStage.Stage2, granule, Math.Max(32, oas), oas, (flags & NestParent) != 0)
            : new SmmuPagingDomain(this, SmmuStage.Stage1, granule, 48, oas, nestParent: false, dirtyTracking);
    }

    [IommuOp(IommuOpKind.DomainAllocNested)]
    private IommuDomain DomainAllocNested(IommuDevice device, IommuDomain parent, uint flags, uint dataType, ReadOnlySpan<byte> userData)
    {
        MasterOf(device);
        if (parent is not SmmuPagingDomain s2 || s2.Driver != this)
        {
            throw new IoasidException(Errno.EINVAL, "the parent is not a paging domain of this SMMU");
        }

        return SmmuNestedDomain.Create(s2, flags, dataType, userData);
    }
}
