using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Ioasid.Analyzers.Diagnostics;

/// <summary>
/// The descriptor catalogue of the analyzers. Each descriptor is built by <see cref="Create"/>, which sets the help
/// link to the rule's page under docs/diagnostics/ (the same form as the generators' IOAG links). Category
/// <see cref="Design"/> holds the rules that enforce Ioasid's design decisions, <see cref="Usage"/> the ones that
/// enforce a kernel rule on arguments and results; DiagnosticCategoryAndIdRanges.txt keeps each in its id range.
/// </summary>
internal static class Descriptors
{
    public const string Design = "Design";
    public const string Usage = "Usage";
    public const string HelpLinkFormat = "https://github.com/ioasid/ioasid/blob/main/docs/diagnostics/{0}.md";

    public static readonly DiagnosticDescriptor IOA001_MediatedDeviceInIommuLayer = Create(
        DiagnosticIds.MediatedDeviceInIommuLayer, Design, DiagnosticSeverity.Error,
        "Mediated device handed to the IOMMU layer",
        "{0}: a mediated device never reaches the IOMMU layer; use its parent's device with the mdev's PASID, or a software access");

    public static readonly DiagnosticDescriptor IOA002_GroupCentricAttach = Create(
        DiagnosticIds.GroupCentricAttach, Design, DiagnosticSeverity.Warning,
        "Attach treats the group as the unit",
        "{0}: attach each device on its own; an iommu group only constrains which domains its devices may use");

    public static readonly DiagnosticDescriptor IOA003_PerDeviceTableInDomain = Create(
        DiagnosticIds.PerDeviceTableInDomain, Design, DiagnosticSeverity.Warning,
        "Domain holds a per-device table",
        "Domain '{0}' holds '{1}' of type '{2}', a per-device table; keep it in the device's driver data (IommuDevice.DriverData)");

    public static readonly DiagnosticDescriptor IOA004_HandleConstantOutOfRange = Create(
        DiagnosticIds.HandleConstantOutOfRange, Usage, DiagnosticSeverity.Error,
        "Constant handle value out of range",
        "{0} is {1}, outside the valid range [{2}, {3}]; the handle's validation refuses it");

    public static readonly DiagnosticDescriptor IOA005_UnalignedConstantIova = Create(
        DiagnosticIds.UnalignedConstantIova, Usage, DiagnosticSeverity.Warning,
        "Unaligned constant IOVA or length",
        "'{0}' of {1} is {2}, not a multiple of 4 KiB; the kernel refuses it with EINVAL");

    public static readonly DiagnosticDescriptor IOA006_IovaPhysAddrMixed = Create(
        DiagnosticIds.IovaPhysAddrMixed, Usage, DiagnosticSeverity.Warning,
        "IOVA and physical address mixed through raw values",
        "A {0} is built from the raw value of a {1}; only a translation relates the two outside an identity domain");

    public static readonly DiagnosticDescriptor IOA007_OwnedResultIgnored = Create(
        DiagnosticIds.OwnedResultIgnored, Usage, DiagnosticSeverity.Warning,
        "Result that owns something is ignored",
        "The result of '{0}' owns {1} and is dropped; keep it, or assign it to '_' to drop it on purpose");

    public static readonly DiagnosticDescriptor IOA008_NoPasidInPasidAttach = Create(
        DiagnosticIds.NoPasidInPasidAttach, Usage, DiagnosticSeverity.Error,
        "IOMMU_NO_PASID where a real PASID is required",
        "{0} takes a PASID other than IOMMU_NO_PASID (0); use the RID path for the device's own address space");

    public static readonly DiagnosticDescriptor IOA009_IoasOnPasid = Create(
        DiagnosticIds.IoasOnPasid, Usage, DiagnosticSeverity.Error,
        "IOAS attached on a PASID",
        "'{0}' attaches the IOAS '{1}' on a PASID; iommufd refuses an IOAS on a PASID with EINVAL: allocate a HWPT with HwptAllocFlags.Pasid and attach that");

    /// <summary>Every descriptor, for tests and for <c>SupportedDiagnostics</c> checks.</summary>
    public static DiagnosticDescriptor[] All { get; } =
    [
        IOA001_MediatedDeviceInIommuLayer, IOA002_GroupCentricAttach, IOA003_PerDeviceTableInDomain,
        IOA004_HandleConstantOutOfRange, IOA005_UnalignedConstantIova, IOA006_IovaPhysAddrMixed,
        IOA007_OwnedResultIgnored, IOA008_NoPasidInPasidAttach, IOA009_IoasOnPasid,
    ];

    private static DiagnosticDescriptor Create(string id, string category, DiagnosticSeverity severity, string title, string messageFormat)
    {
#pragma warning disable RS0030 // the one place the banned constructor is allowed: it sets the help link
        return new DiagnosticDescriptor(id, title, messageFormat, category, severity, isEnabledByDefault: true,
            description: null, helpLinkUri: string.Format(CultureInfo.InvariantCulture, HelpLinkFormat, id));
#pragma warning restore RS0030
    }
}
