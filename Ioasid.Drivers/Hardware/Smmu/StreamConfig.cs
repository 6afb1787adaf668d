using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// A decoded STE as the configuration cache holds it (QEMU's <c>SMMUTransCfg</c>, stream half): where it was read,
/// the raw entry, and either the fault its lookup raised or the stages it enables with their parameters.
/// </summary>
public sealed class StreamConfig
{
    /// <summary>The StreamID.</summary>
    public uint StreamId { get; init; }

    /// <summary>The event the lookup or decode raised (C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE), or null.</summary>
    public SmmuEventType? Fault { get; init; }

    /// <summary>For F_STE_FETCH, the address that could not be read.</summary>
    public ulong FaultAddress { get; init; }

    /// <summary>Where the STE was read.</summary>
    public PhysAddr Address { get; init; }

    /// <summary>The raw STE.</summary>
    public StreamTableEntry Entry { get; init; }

    /// <summary>The configuration (meaningful without <see cref="Fault"/>).</summary>
    public SteConfig Config { get; init; }

    /// <summary>Whether stage 1 translates.</summary>
    public bool Stage1 => Config is SteConfig.S1Translate or SteConfig.Nested;

    /// <summary>Whether stage 2 translates.</summary>
    public bool Stage2 => Config is SteConfig.S2Translate or SteConfig.Nested;

    /// <summary>The VMID tagging this stream's cached translations.</summary>
    public ushort Vmid { get; init; }

    /// <summary>The stage-2 walk, when <see cref="Stage2"/>.</summary>
    public WalkContext Stage2Walk { get; init; }

    /// <summary>STE.S2R: record stage-2 faults.</summary>
    public bool RecordStage2 { get; init; }

    /// <inheritdoc />
    public override string ToString() => Fault is { } f ? $"sid 0x{StreamId:x}: {f}" : $"sid 0x{StreamId:x}: {Config} vmid {Vmid}";
}
