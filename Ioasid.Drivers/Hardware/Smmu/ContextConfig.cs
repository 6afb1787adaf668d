using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// A decoded CD as the configuration cache holds it: where it was read, the raw descriptor, and either the fault
/// (C_BAD_SUBSTREAMID for an invalid L1 descriptor, F_CD_FETCH, C_BAD_CD, or a stage-2 fault fetching it when nested)
/// or the stage-1 walk it describes.
/// </summary>
public sealed class ContextConfig
{
    /// <summary>The StreamID.</summary>
    public uint StreamId { get; init; }

    /// <summary>The CD index (the SubstreamID, or 0).</summary>
    public uint Index { get; init; }

    /// <summary>The event raised, or null.</summary>
    public SmmuEventType? Fault { get; init; }

    /// <summary>Whether the fault happened translating the CD address through stage 2 (nested).</summary>
    public bool FaultAtStage2 { get; init; }

    /// <summary>The address involved in a fetch or stage-2 fault.</summary>
    public ulong FaultAddress { get; init; }

    /// <summary>Where the CD was read (a physical address).</summary>
    public PhysAddr Address { get; init; }

    /// <summary>The raw CD.</summary>
    public ContextDescriptor Descriptor { get; init; }

    /// <summary>The ASID.</summary>
    public ushort Asid { get; init; }

    /// <summary>EPD0: TTB0 walks disabled.</summary>
    public bool Epd0 { get; init; }

    /// <summary>The stage-1 walk through TTB0.</summary>
    public WalkContext Walk { get; init; }

    /// <summary>CD.R: record stage-1 faults.</summary>
    public bool Record { get; init; }

    /// <inheritdoc />
    public override string ToString() => Fault is { } f ? $"cd {Index}: {f}" : $"cd {Index}: asid {Asid} ttb0 {Walk.Ttb}";
}
