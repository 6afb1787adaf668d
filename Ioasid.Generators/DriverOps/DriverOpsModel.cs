using Ioasid.Generators.Common;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// One line of a generated <c>IommuOps</c> initializer.
/// </summary>
/// <param name="Member">The table property (e.g. <c>ProbeDevice</c>).</param>
/// <param name="Source">The driver member that fills it (e.g. <c>Probe</c>), or null when the op is absent.</param>
/// <param name="AbsentNote">What the core does when the op is absent.</param>
internal sealed record DriverOpEntry(string Member, string? Source, string AbsentNote);

/// <summary>Everything the emitter needs to write one driver's <c>Ops</c>; values only, so it caches.</summary>
/// <param name="Namespace">The driver's namespace, or null for the global namespace.</param>
/// <param name="TypeName">The driver class's name.</param>
/// <param name="TypeKeyword"><c>class</c> or <c>record</c>, as the declaration says.</param>
/// <param name="DriverName">The name given to <c>[IommuDriver]</c>.</param>
/// <param name="Entries">Every entry of the table, in <c>IommuOpKind</c> order.</param>
internal sealed record DriverOpsModel(
    string? Namespace,
    string TypeName,
    string TypeKeyword,
    string DriverName,
    EquatableArray<DriverOpEntry> Entries);

/// <summary>The result of looking at one [IommuDriver] class: a model when it can be emitted, and its diagnostics.</summary>
internal sealed record DriverOpsResult(DriverOpsModel? Model, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly DriverOpsResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);
}
