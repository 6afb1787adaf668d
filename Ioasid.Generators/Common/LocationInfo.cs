using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.Generators.Common;

/// <summary>
/// A source location as plain values. A <see cref="Location"/> keeps its whole syntax tree alive and
/// compares by reference, which would defeat incremental caching.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

    public static LocationInfo? From(SyntaxNode node) => From(node.GetLocation());

    public static LocationInfo? From(Location location) =>
        location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}
