using System.Runtime.CompilerServices;

namespace Ioasid.Analyzers.Tests.Support;

/// <summary>Locates files of the repository from this test source file (so tests read the real docs, not copies).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string DiagnosticsDocsDirectory => Path.Combine(Root, "docs", "diagnostics");

    public static string AnalyzersDirectory => Path.Combine(Root, "Ioasid.Analyzers");

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        for (var dir = Path.GetDirectoryName(thisFile); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Ioasid.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"No folder above '{thisFile}' holds Ioasid.sln; tests must run from a build whose source paths exist.");
    }
}
