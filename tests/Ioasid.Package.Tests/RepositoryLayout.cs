namespace Ioasid.Package.Tests;

/// <summary>Where the repository is, found from the test's output folder (the directory holding Ioasid.sln).</summary>
internal static class RepositoryLayout
{
    public static readonly string Root = FindRoot();

    public static string PackageProject => Path.Combine(Root, "Ioasid.Package", "Ioasid.Package.csproj");

    public static string Samples => Path.Combine(Root, "samples");

    public static string Solution => Path.Combine(Root, "Ioasid.sln");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ioasid.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Ioasid.sln above {AppContext.BaseDirectory}");
    }
}
