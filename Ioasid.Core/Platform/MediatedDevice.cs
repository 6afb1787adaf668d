using System;

namespace Ioasid.Core.Platform;

/// <summary>
/// A mediated device (an mdev, e.g. a vGPU slice): a child of a parent PCI function that has no requester id of its
/// own. Its DMA leaves the parent as the parent's RID tagged with the mdev's <see cref="Pasid"/>, or, when it has no
/// PASID, is done in software by the parent's driver through an IOAS access. It is deliberately not a
/// <see cref="PciDevice"/>: nothing in the IOMMU layer can take one.
/// </summary>
[MediatedDevice]
public sealed class MediatedDevice
{
    /// <summary>Describes an mdev of <paramref name="parent"/>.</summary>
    /// <param name="parent">The PCI function whose DMA engine the mdev uses.</param>
    /// <param name="name">A name for listings, e.g. a UUID.</param>
    /// <param name="pasid">The PASID the parent tags the mdev's DMA with; null for an mdev served by a software access.</param>
    /// <exception cref="ArgumentException">The PASID is IOMMU_NO_PASID or beyond the parent's PASID width.</exception>
    public MediatedDevice(PciDevice parent, string name, Pasid? pasid = null)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (pasid is { } p && (p.IsNoPasid || p.Value >= parent.MaxPasids))
        {
            throw new ArgumentException($"PASID {p} is not a usable PASID of {parent} ({parent.PasidBits}-bit)", nameof(pasid));
        }

        Parent = parent;
        Name = name;
        Pasid = pasid;
    }

    /// <summary>The parent PCI function.</summary>
    public PciDevice Parent { get; }

    /// <summary>A name for listings.</summary>
    public string Name { get; }

    /// <summary>The PASID of the mdev's DMA, or null when a software access serves it.</summary>
    public Pasid? Pasid { get; }

    /// <inheritdoc />
    public override string ToString() => Pasid is { } p ? $"{Name} ({Parent.Rid} pasid {p})" : $"{Name} (sw access via {Parent.Name})";
}
