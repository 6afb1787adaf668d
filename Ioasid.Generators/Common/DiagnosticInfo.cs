using System.Linq;
using Microsoft.CodeAnalysis;

namespace Ioasid.Generators.Common;

/// <summary>
/// A diagnostic as plain values, carried inside a pipeline model and turned into a real
/// <see cref="Diagnostic"/> only when it is reported.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SyntaxNode? node, params string[] messageArgs) =>
        new(descriptor, node is null ? null : LocationInfo.From(node), new EquatableArray<string>(messageArgs));

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] messageArgs) =>
        new(descriptor, location is null ? null : LocationInfo.From(location), new EquatableArray<string>(messageArgs));

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), MessageArgs.Cast<object>().ToArray());
}
