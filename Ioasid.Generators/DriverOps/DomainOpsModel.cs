using Ioasid.Generators.Common;

namespace Ioasid.Generators.DriverOps;

/// <summary>One parameter of a generated lambda, as the op's delegate declares it.</summary>
/// <param name="Modifier"><c>ref </c>, <c>out </c>, <c>in </c> or empty.</param>
/// <param name="Type">The fully qualified type, with its nullable annotation.</param>
/// <param name="Name">The parameter name (escaped if it is a keyword).</param>
internal sealed record LambdaParameter(string Modifier, string Type, string Name);

/// <summary>
/// One line of a generated <c>DomainOps</c> initializer.
/// </summary>
/// <param name="Member">The table property (e.g. <c>MapPages</c>).</param>
/// <param name="Method">The static method that implements the op, or null when the op is absent.</param>
/// <param name="DomainCast">The fully qualified type the domain is cast to for the call, or null when the method takes <c>IommuDomain</c>.</param>
/// <param name="Parameters">The delegate's parameters; the first one is the domain.</param>
/// <param name="AbsentNote">What the core does when the op is absent.</param>
internal sealed record DomainOpEntry(
    string Member,
    string? Method,
    string? DomainCast,
    EquatableArray<LambdaParameter> Parameters,
    string AbsentNote);

/// <summary>Everything the emitter needs to write one domain class's static <c>Ops</c>; values only, so it caches.</summary>
/// <param name="Namespace">The domain's namespace, or null for the global namespace.</param>
/// <param name="TypeName">The domain class's name.</param>
/// <param name="FullyQualifiedName">The class as <c>global::Ns.Name</c>, for casts and calls.</param>
/// <param name="TypeKeyword"><c>class</c> or <c>record</c>, as the declaration says.</param>
/// <param name="Paging">The <c>Paging</c> argument of <c>[IommuDomainOps]</c>.</param>
/// <param name="Entries">Every entry of the table, in <c>DomainOpKind</c> order.</param>
internal sealed record DomainOpsModel(
    string? Namespace,
    string TypeName,
    string FullyQualifiedName,
    string TypeKeyword,
    bool Paging,
    EquatableArray<DomainOpEntry> Entries);

/// <summary>The result of looking at one [IommuDomainOps] class: a model when it can be emitted, and its diagnostics.</summary>
internal sealed record DomainOpsResult(DomainOpsModel? Model, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly DomainOpsResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);
}
