using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Ioasid.TestKit;

/// <summary>Stable, culture-independent text for diagnostics, in Roslyn's <see cref="Diagnostic.ToString"/> shape.</summary>
public static class DiagnosticFormat
{
    private static readonly DiagnosticFormatter Formatter = new();

    /// <summary>E.g. <c>Input.cs(1,33): error IOAG001: Typed handle 'Rid' must be declared partial …</c> (invariant culture).</summary>
    public static string Format(Diagnostic diagnostic)
    {
        ArgumentNullException.ThrowIfNull(diagnostic);
        return Formatter.Format(diagnostic, CultureInfo.InvariantCulture);
    }

    /// <summary>Sorts by file, position, id and message (ordinal), so the order never depends on analysis order.</summary>
    public static ImmutableArray<Diagnostic> Sort(IEnumerable<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        return diagnostics
            .OrderBy(d => d.Location.SourceTree?.FilePath ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Location.SourceSpan.End)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ThenBy(d => d.GetMessage(CultureInfo.InvariantCulture), StringComparer.Ordinal)
            .ToImmutableArray();
    }

    /// <summary><see cref="Sort"/> then <see cref="Format(Diagnostic)"/> each diagnostic.</summary>
    public static ImmutableArray<string> FormatAll(IEnumerable<Diagnostic> diagnostics)
        => Sort(diagnostics).Select(Format).ToImmutableArray();
}
