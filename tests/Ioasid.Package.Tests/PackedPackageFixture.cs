using System.IO.Compression;
using System.Xml.Linq;

namespace Ioasid.Package.Tests;

/// <summary>
/// Packs the `Ioasid` package once for all package tests, the way a release would, into a scratch folder laid out like
/// the repository: <c>artifacts/packages</c> (the feed the samples' nuget.config names), a copy of <c>samples/</c>
/// (without bin/obj), and a private NuGet global packages folder, so the samples always restore the package just
/// packed rather than a cached one. Build outputs of the pack go to the scratch folder too (ArtifactsPath).
/// Set IOASID_KEEP_PACKAGE_TEST_DIR=1 to keep the folder for inspection.
/// </summary>
public sealed class PackedPackageFixture : IDisposable
{
    public PackedPackageFixture()
    {
        WorkDirectory = Path.Combine(Path.GetTempPath(), "ioasid-package-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Feed = Directory.CreateDirectory(Path.Combine(WorkDirectory, "artifacts", "packages")).FullName;
        GlobalPackages = Directory.CreateDirectory(Path.Combine(WorkDirectory, "nuget-packages")).FullName;
        Samples = Path.Combine(WorkDirectory, "samples");
        CopySamples(RepositoryLayout.Samples, Samples);

        Pack = DotnetCli.Run(RepositoryLayout.Root, null,
            "pack", RepositoryLayout.PackageProject, "-c", "Release", "-o", Feed, "-nodeReuse:false",
            "-p:ArtifactsPath=" + Path.Combine(WorkDirectory, "build") + Path.DirectorySeparatorChar);
        if (Pack.ExitCode != 0)
        {
            throw new InvalidOperationException("dotnet pack failed:\n" + Pack);
        }

        PackagePath = Directory.GetFiles(Feed, "Ioasid.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        using (var package = ZipFile.OpenRead(PackagePath))
        {
            Entries = package.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal).ToArray();
            using var nuspec = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            Nuspec = XDocument.Load(nuspec);
        }

        Version = Nuspec.Descendants().Single(e => e.Name.LocalName == "version").Value;
        SymbolsPath = Path.ChangeExtension(PackagePath, ".snupkg");
    }

    /// <summary>The scratch folder.</summary>
    public string WorkDirectory { get; }

    /// <summary>The local folder feed holding the packed .nupkg and .snupkg.</summary>
    public string Feed { get; }

    /// <summary>The NuGet global packages folder the samples restore into (empty before the first sample restore).</summary>
    public string GlobalPackages { get; }

    /// <summary>The copy of the repository's samples/ folder.</summary>
    public string Samples { get; }

    /// <summary>The pack command, its output and duration.</summary>
    public CommandResult Pack { get; }

    /// <summary>The packed Ioasid .nupkg.</summary>
    public string PackagePath { get; }

    /// <summary>The symbols package beside it.</summary>
    public string SymbolsPath { get; }

    /// <summary>Every entry of the .nupkg, sorted.</summary>
    public IReadOnlyList<string> Entries { get; }

    /// <summary>The package's manifest.</summary>
    public XDocument Nuspec { get; }

    /// <summary>The package version, which the samples are told to install.</summary>
    public string Version { get; }

    /// <summary>
    /// Runs dotnet on a sample with the private packages folder and the packed version. Vulnerability auditing is
    /// off: it would ask nuget.org about a package that exists only in the local feed.
    /// </summary>
    public CommandResult RunSampleCommand(string sample, params string[] arguments)
    {
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = GlobalPackages };
        string[] properties = ["-p:IoasidPackageVersion=" + Version, "-p:NuGetAudit=false", "-nodeReuse:false"];
        return DotnetCli.Run(Path.Combine(Samples, sample), environment, [.. arguments, .. properties]);
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("IOASID_KEEP_PACKAGE_TEST_DIR") == "1")
        {
            return;
        }

        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A straggling build server may still hold a file; the OS cleans the temp folder eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void CopySamples(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(dir);
            if (name is not ("bin" or "obj"))
            {
                CopySamples(dir, Path.Combine(to, name));
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedPackageCollection : ICollectionFixture<PackedPackageFixture>
{
    public const string Name = "packed Ioasid package";
}
