namespace Ioasid.Analyzers.CodeFixes;

/// <summary>Marker for the code-fix assembly; fixes arrive with the analyzers issue.</summary>
internal static class IoasidCodeFixesAssembly
{
    /// <summary>The analyzer id prefix this assembly fixes.</summary>
    public const string IdPrefix = Ioasid.Analyzers.IoasidAnalyzersAssembly.IdPrefix;
}
