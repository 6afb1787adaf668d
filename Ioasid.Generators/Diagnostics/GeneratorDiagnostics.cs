using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Ioasid.Generators.Diagnostics;

/// <summary>
/// The descriptor catalogue of the generators. Each descriptor is built by <see cref="Create"/>, which sets
/// the help link to the rule's page under docs/diagnostics/.
/// </summary>
internal static class GeneratorDiagnostics
{
    private const string Category = "Ioasid.Generators";
    private const string HelpLinkFormat = "https://github.com/ioasid/ioasid/blob/main/docs/diagnostics/{0}.md";

    public static readonly DiagnosticDescriptor IOAG001_HandleNotPartial = Create(
        DiagnosticIds.HandleNotPartial,
        "Typed handle must be partial",
        "Typed handle '{0}' must be declared partial so the generator can complete it");

    public static readonly DiagnosticDescriptor IOAG002_HandleUnsupportedUnderlyingType = Create(
        DiagnosticIds.HandleUnsupportedUnderlyingType,
        "Unsupported underlying type of a typed handle",
        "Typed handle '{0}' cannot wrap '{1}': use byte, ushort, uint or ulong");

    public static readonly DiagnosticDescriptor IOAG003_HandleInvalidRange = Create(
        DiagnosticIds.HandleInvalidRange,
        "Invalid range of a typed handle",
        "Typed handle '{0}' declares the range [{1}, {2}], which is empty or does not fit in '{3}'");

    public static readonly DiagnosticDescriptor IOAG004_HandleConstantOutOfRange = Create(
        DiagnosticIds.HandleConstantOutOfRange,
        "Typed handle constant outside the handle's range",
        "Constant '{0}' of typed handle '{1}' has value {2}, outside the range [{3}, {4}]");

    public static readonly DiagnosticDescriptor IOAG005_HandleNested = Create(
        DiagnosticIds.HandleNested,
        "Typed handle must be declared at namespace level",
        "Typed handle '{0}' is nested in '{1}'; declare it directly in a namespace");

    public static readonly DiagnosticDescriptor IOAG006_HandleDuplicateConstant = Create(
        DiagnosticIds.HandleDuplicateConstant,
        "Typed handle constant declared twice",
        "Typed handle '{0}' declares the constant '{1}' more than once");

    public static readonly DiagnosticDescriptor IOAG010_OpsTypeNotPartial = Create(
        DiagnosticIds.OpsTypeNotPartial,
        "Driver-ops type must be partial",
        "'{0}' is marked [{1}] and must be declared partial so the generator can add its Ops table");

    public static readonly DiagnosticDescriptor IOAG011_OpsRequiredOpMissing = Create(
        DiagnosticIds.OpsRequiredOpMissing,
        "Required op missing",
        "'{0}' is missing the required op {1}: {2}");

    public static readonly DiagnosticDescriptor IOAG012_OpsWrongSignature = Create(
        DiagnosticIds.OpsWrongSignature,
        "Op member does not match the op's signature",
        "'{0}' cannot be the {1} op: expected {2}");

    public static readonly DiagnosticDescriptor IOAG013_OpsDuplicateOp = Create(
        DiagnosticIds.OpsDuplicateOp,
        "Op declared twice",
        "'{0}' declares the op {1} twice: '{2}' and '{3}'");

    public static readonly DiagnosticDescriptor IOAG014_OpsMisplacedOp = Create(
        DiagnosticIds.OpsMisplacedOp,
        "Op attribute has no effect here",
        "[{0}] on '{1}' has no effect: {2}");

    public static readonly DiagnosticDescriptor IOAG015_DomainOpsNotIommuDomain = Create(
        DiagnosticIds.DomainOpsNotIommuDomain,
        "Domain-ops class must derive from IommuDomain",
        "'{0}' is marked [IommuDomainOps] but does not derive from Ioasid.Core.Iommu.IommuDomain");

    public static readonly DiagnosticDescriptor IOAG016_DomainDirtyOpsUnpaired = Create(
        DiagnosticIds.DomainDirtyOpsUnpaired,
        "Dirty-tracking ops must come as a pair",
        "'{0}' implements {1} but not {2}: the dirty-tracking ops work only as a pair");

    public static readonly DiagnosticDescriptor IOAG017_OpsTypeUnsupported = Create(
        DiagnosticIds.OpsTypeUnsupported,
        "Driver-ops type cannot get a generated table",
        "'{0}' cannot get a generated Ops table: {1}");

    private static DiagnosticDescriptor Create(string id, string title, string messageFormat) =>
        new(id, title, messageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: string.Format(CultureInfo.InvariantCulture, HelpLinkFormat, id),
            customTags: WellKnownDiagnosticTags.NotConfigurable);
}
