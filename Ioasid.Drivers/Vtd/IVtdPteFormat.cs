using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// What the shared page-table engine (<see cref="VtdPageTable{TFormat}"/>) needs to know about one VT-d entry format:
/// how a present entry, a table pointer and a leaf look. Both formats put PS at bit 7 and leave bits 61:52 of a
/// non-leaf entry to software, where the engine keeps the present-entry count of the table the entry points to.
/// </summary>
internal interface IVtdPteFormat
{
    /// <summary>Whether <paramref name="pte"/> is present.</summary>
    static abstract bool IsPresent(ulong pte);

    /// <summary>A non-leaf entry pointing at <paramref name="table"/>.</summary>
    static abstract ulong Table(ulong table);

    /// <summary>The permission bits of a leaf for <paramref name="prot"/>; 0 when the format cannot express it.</summary>
    static abstract ulong LeafBits(IommuProt prot);
}

/// <summary>The second-stage format (<see cref="Hardware.Vtd.SlPte"/>).</summary>
internal readonly struct SecondStageFormat : IVtdPteFormat
{
    public static bool IsPresent(ulong pte) => (pte & Hardware.Vtd.SlPte.PresentMask) != 0;

    public static ulong Table(ulong table) => table | Hardware.Vtd.SlPte.Read | Hardware.Vtd.SlPte.Write;

    public static ulong LeafBits(IommuProt prot) =>
        ((prot & IommuProt.Read) != 0 ? Hardware.Vtd.SlPte.Read : 0) | ((prot & IommuProt.Write) != 0 ? Hardware.Vtd.SlPte.Write : 0);
}

/// <summary>The first-stage format (<see cref="Hardware.Vtd.FlPte"/>): leaves as Linux writes them (A and D preset).</summary>
internal readonly struct FirstStageFormat : IVtdPteFormat
{
    public static bool IsPresent(ulong pte) => (pte & Hardware.Vtd.FlPte.Present) != 0;

    public static ulong Table(ulong table) => Hardware.Vtd.FlPte.Table(new PhysAddr(table));

    // A first-stage leaf is always readable: a write-only mapping cannot be expressed (the kernel refuses it too).
    public static ulong LeafBits(IommuProt prot) => (prot & IommuProt.Read) == 0
        ? 0
        : Hardware.Vtd.FlPte.Present | Hardware.Vtd.FlPte.User | Hardware.Vtd.FlPte.Accessed
          | ((prot & IommuProt.Write) != 0 ? Hardware.Vtd.FlPte.Writable | Hardware.Vtd.FlPte.Dirty : 0);
}
