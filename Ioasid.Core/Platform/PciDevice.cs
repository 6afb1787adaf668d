namespace Ioasid.Core.Platform;

/// <summary>
/// A PCI function on the simulated platform: what an IOMMU driver probes. Its topology (the bridge or switch port
/// above it, ACS isolation, multifunction siblings) decides its iommu group; <see cref="PasidBits"/> says whether
/// and how wide it can tag DMA with a PASID; <see cref="Ats"/> whether it has the ATS capability (a device TLB an IOMMU
/// driver may enable).
/// </summary>
public sealed class PciDevice
{
    /// <summary>Describes a PCI function.</summary>
    /// <param name="rid">Its requester id.</param>
    /// <param name="name">A name for listings, e.g. <c>nic0</c>.</param>
    /// <param name="acs">Whether the function (or, for a bridge, the port) enforces ACS isolation.</param>
    /// <param name="upstream">The bridge or switch port the function sits behind, or null for a root-complex function.</param>
    /// <param name="pasidBits">Width of the PASID capability (0: no PASID support; PCIe allows up to 20).</param>
    /// <param name="isBridge">Whether the function is a bridge or switch port.</param>
    /// <param name="ats">
    /// Whether the function has the PCIe Address Translation Services capability: a device TLB (ATC) it can cache
    /// IOMMU translations in once a driver enables ATS.
    /// </param>
    public PciDevice(Rid rid, string name, bool acs = true, PciDevice? upstream = null, int pasidBits = 0, bool isBridge = false, bool ats = false)
    {
        if (pasidBits is < 0 or > Pasid.Bits)
        {
            throw new System.ArgumentOutOfRangeException(nameof(pasidBits), pasidBits, "A PASID is 0 to 20 bits wide.");
        }

        Rid = rid;
        Name = name;
        Acs = acs;
        Upstream = upstream;
        PasidBits = pasidBits;
        IsBridge = isBridge;
        Ats = ats;
    }

    /// <summary>The requester id the function's DMA carries.</summary>
    public Rid Rid { get; }

    /// <summary>A name for listings.</summary>
    public string Name { get; }

    /// <summary>Whether the function or port enforces ACS isolation (source validation, P2P redirect, upstream forwarding).</summary>
    public bool Acs { get; }

    /// <summary>The bridge or switch port above the function, if any.</summary>
    public PciDevice? Upstream { get; }

    /// <summary>Width of the PASID capability; 0 when the function cannot tag DMA with a PASID.</summary>
    public int PasidBits { get; }

    /// <summary>Whether the function is a bridge or switch port.</summary>
    public bool IsBridge { get; }

    /// <summary>
    /// Whether the function has the ATS capability (<c>pci_ats_supported</c>): it can hold translations in its own
    /// device TLB and send translated requests. The IOMMU driver decides whether to enable it.
    /// </summary>
    public bool Ats { get; }

    /// <summary>The number of PASIDs the function supports (<c>max_pasids</c>); 0 without PASID support.</summary>
    public uint MaxPasids => PasidBits == 0 ? 0 : 1u << PasidBits;

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Rid})";
}
