using System;

namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// The configurable capability set of one modelled VT-d unit, from which <see cref="Cap"/> and <see cref="Ecap"/>
/// are built bit for bit. Defaults: a scalable-mode unit with 39- and 48-bit second stage, 2 MiB and 1 GiB superpages,
/// first stage, nesting, pass-through, 20-bit PASIDs, 8 fault-recording registers, caching mode off.
/// </summary>
public sealed record VtdCapabilities
{
    /// <summary>Offset of the IOTLB registers (ECAP.IRO × 16).</summary>
    public const int IotlbRegisterOffset = 0x100;

    /// <summary>Offset of the first fault-recording register (CAP.FRO × 16).</summary>
    public const int FaultRecordingOffset = 0x200;

    /// <summary>Second-stage table depths supported (SAGAW): any of 3 (39-bit), 4 (48-bit), 5 (57-bit).</summary>
    public int[] SecondStageLevels { get; init; } = [3, 4];

    /// <summary>MGAW: the maximum guest (input) address width, at most 57.</summary>
    public int MaxGuestAddressWidth { get; init; } = 48;

    /// <summary>HAW: the host (output) address width; address bits at and above it are reserved in every entry.</summary>
    public int HostAddressWidth { get; init; } = 46;

    /// <summary>SSLPS bit 34: 2 MiB second-stage pages.</summary>
    public bool SecondStage2M { get; init; } = true;

    /// <summary>SSLPS bit 35: 1 GiB second-stage pages.</summary>
    public bool SecondStage1G { get; init; } = true;

    /// <summary>ECAP.SMTS: scalable mode.</summary>
    public bool ScalableMode { get; init; } = true;

    /// <summary>PASID width in bits (ECAP.PSS + 1); 0 = no PASID support.</summary>
    public int PasidBits { get; init; } = 20;

    /// <summary>ECAP.NEST: nested translation.</summary>
    public bool Nesting { get; init; } = true;

    /// <summary>ECAP.FSTS: first-stage translation.</summary>
    public bool FirstStage { get; init; } = true;

    /// <summary>CAP.FS1GP: first-stage 1 GiB pages.</summary>
    public bool FirstStage1G { get; init; } = true;

    /// <summary>CAP.FS5LP: first-stage 5-level paging.</summary>
    public bool FirstStage5Level { get; init; }

    /// <summary>CAP.CM: caching mode — the hardware may cache not-present entries, so new mappings need invalidation.</summary>
    public bool CachingMode { get; init; }

    /// <summary>
    /// ECAP.DT: device-TLB support — the unit accepts ATS translation requests and translated requests from devices
    /// whose context entry allows them (legacy TT = 01b, scalable-mode DTE). Off by default.
    /// </summary>
    public bool DeviceTlb { get; init; }

    /// <summary>ECAP.PT: pass-through.</summary>
    public bool PassThrough { get; init; } = true;

    /// <summary>
    /// ECAP.SSADS (SLADS): second-stage accessed/dirty flags — with SSADE in a PASID entry the hardware sets A in the
    /// second-stage entries it walks and D in a leaf a write goes through (dirty tracking). A scalable-mode feature;
    /// off by default.
    /// </summary>
    public bool SecondStageAccessDirty { get; init; }

    /// <summary>ECAP.SC: snoop control.</summary>
    public bool SnoopControl { get; init; } = true;

    /// <summary>CAP.ND: 2^(4 + 2·ND) domain ids (6 = 65536).</summary>
    public int NumberOfDomainsField { get; init; } = 6;

    /// <summary>Fault-recording registers (CAP.NFR + 1), 1 to 256.</summary>
    public int FaultRecords { get; init; } = 8;

    /// <summary>CAP.MAMV: the largest PSI address mask.</summary>
    public int MaxAddressMask { get; init; } = 18;

    /// <summary>Number of domain ids: 2^(4 + 2·ND).</summary>
    public int DomainIds => 1 << (4 + (2 * NumberOfDomainsField));

    /// <summary>The CAP register value.</summary>
    public ulong Cap
    {
        get
        {
            Validate();
            ulong sagaw = 0;
            foreach (int levels in SecondStageLevels)
            {
                sagaw |= (uint)VtdCapRegister.SagawBitFor(levels);
            }

            return (ulong)(uint)NumberOfDomainsField
                | (CachingMode ? 1UL << VtdCapRegister.CachingModeBit : 0)
                | (sagaw << VtdCapRegister.SagawShift)
                | ((ulong)(uint)(MaxGuestAddressWidth - 1) << VtdCapRegister.MgawShift)
                | ((ulong)(FaultRecordingOffset / 16) << VtdCapRegister.FaultRecordingOffsetShift)
                | (SecondStage2M ? 1UL << VtdCapRegister.SecondStage2MBit : 0)
                | (SecondStage1G ? 1UL << VtdCapRegister.SecondStage1GBit : 0)
                | (1UL << VtdCapRegister.PageSelectiveInvalidationBit)
                | ((ulong)(uint)(FaultRecords - 1) << VtdCapRegister.NumberOfFaultRecordsShift)
                | ((ulong)(uint)MaxAddressMask << VtdCapRegister.MaxAddressMaskShift)
                | (FirstStage1G ? 1UL << VtdCapRegister.FirstStage1GBit : 0)
                | (FirstStage5Level ? 1UL << VtdCapRegister.FirstStage5LevelBit : 0);
        }
    }

    /// <summary>The ECAP register value.</summary>
    public ulong Ecap
    {
        get
        {
            Validate();
            return (1UL << VtdEcapRegister.CoherencyBit)
                | (1UL << VtdEcapRegister.QueuedInvalidationBit)
                | (DeviceTlb ? 1UL << VtdEcapRegister.DeviceTlbBit : 0)
                | (PassThrough ? 1UL << VtdEcapRegister.PassThroughBit : 0)
                | (SnoopControl ? 1UL << VtdEcapRegister.SnoopControlBit : 0)
                | ((ulong)(IotlbRegisterOffset / 16) << VtdEcapRegister.IotlbRegisterOffsetShift)
                | (Nesting ? 1UL << VtdEcapRegister.NestedBit : 0)
                | (1UL << VtdEcapRegister.SupervisorRequestBit)
                | (PasidBits > 0 ? ((ulong)(uint)(PasidBits - 1) << VtdEcapRegister.PasidSizeShift) | (1UL << VtdEcapRegister.PasidBit) : 0)
                | (ScalableMode ? (1UL << VtdEcapRegister.ScalableModeBit) | (1UL << VtdEcapRegister.SecondStageBit) | (1UL << VtdEcapRegister.ScalablePageWalkCoherencyBit) : 0)
                | (FirstStage ? 1UL << VtdEcapRegister.FirstStageBit : 0)
                | (SecondStageAccessDirty ? 1UL << VtdEcapRegister.SecondStageAccessDirtyBit : 0);
        }
    }

    /// <summary>Whether second-stage tables of <paramref name="levels"/> levels are supported.</summary>
    public bool SupportsLevels(int levels) => Array.IndexOf(SecondStageLevels, levels) >= 0;

    /// <summary>Checks the set is self-consistent.</summary>
    /// <exception cref="ArgumentException">A field is out of range.</exception>
    public void Validate()
    {
        if (SecondStageLevels.Length == 0 || Array.Exists(SecondStageLevels, l => l is < 3 or > 5))
        {
            throw new ArgumentException("SAGAW needs one or more of 3, 4, 5 levels.");
        }

        if (MaxGuestAddressWidth is < 39 or > 57 || HostAddressWidth is < 32 or > 52 || FaultRecords is < 1 or > 256
            || PasidBits is < 0 or > 20 || NumberOfDomainsField is < 0 or > 6 || MaxAddressMask is < 0 or > 63)
        {
            throw new ArgumentException("A VT-d capability field is out of range.");
        }
    }
}
