using System.Collections.Generic;
using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The driver's per-device data (Linux's <c>arm_smmu_master</c>, kept in <see cref="IommuDevice.DriverData"/>): the
/// StreamID, the SSID width, the CD table (created on the first stage-1 or PASID attach, and owned by the device,
/// never by a domain), what the RID is attached to and which domain sits at each PASID.
/// </summary>
public sealed class SmmuMaster
{
    internal SmmuMaster(IommuDevice device, uint streamId, int ssidBits, bool atsSupported = false)
    {
        Device = device;
        StreamId = streamId;
        SsidBits = ssidBits;
        AtsSupported = atsSupported;
    }

    /// <summary>Whether the device has ATS and the SMMU IDR0.ATS (<c>arm_smmu_ats_supported</c>).</summary>
    public bool AtsSupported { get; }

    /// <summary>
    /// Whether the driver enabled ATS on the device (<c>master-&gt;ats_enabled</c>): its STE has EATS = full ATS and
    /// every TLB invalidation of its domains is followed by ATC_INV.
    /// </summary>
    public bool AtsEnabled { get; internal set; }

    /// <summary>The device.</summary>
    public IommuDevice Device { get; }

    /// <summary>The StreamID (from the <c>iommu-map</c>).</summary>
    public uint StreamId { get; }

    /// <summary>SubstreamID bits: min(IDR1.SSIDSIZE, the device's PASID width).</summary>
    public int SsidBits { get; }

    /// <summary>The CD table, once created.</summary>
    public CdTable? CdTable { get; internal set; }

    /// <summary>The domain translating the RID (null until the first attach: the STE aborts).</summary>
    public IommuDomain? RidDomain { get; internal set; }

    /// <summary>The stage-1 domains attached at PASIDs.</summary>
    public Dictionary<uint, SmmuPagingDomain> Pasids { get; } = new();

    /// <summary>The STE last written for the master.</summary>
    public StreamTableEntry Ste { get; internal set; } = StreamTable.Abort();

    /// <inheritdoc />
    public override string ToString() => $"{Device} sid 0x{StreamId:x}";
}
