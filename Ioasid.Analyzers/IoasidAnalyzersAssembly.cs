namespace Ioasid.Analyzers;

/// <summary>
/// Marker for the analyzer assembly. The rules themselves arrive with the analyzers issue; until then the
/// assembly ships empty so the package layout (analyzers/dotnet/cs) is in place from the start.
/// </summary>
internal static class IoasidAnalyzersAssembly
{
    /// <summary>Prefix of every analyzer diagnostic id (IOA0xx).</summary>
    public const string IdPrefix = "IOA";
}
