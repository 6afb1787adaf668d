using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit.Abstractions;

namespace Ioasid.Package.Tests;

/// <summary>What `dotnet pack` puts in the Ioasid package: the layout a driver author's single PackageReference relies on.</summary>
[Collection(PackedPackageCollection.Name)]
public sealed class PackageContentTests(PackedPackageFixture package, ITestOutputHelper output)
{
    private static readonly string[] RuntimeAssemblies = ["Ioasid.Abstractions", "Ioasid.Core", "Ioasid.Drivers"];
    private static readonly string[] RoslynComponents = ["Ioasid.Analyzers", "Ioasid.Analyzers.CodeFixes", "Ioasid.Generators"];

    [Fact]
    public void Lib_net10_holds_exactly_the_runtime_assemblies_each_with_its_xml_docs()
    {
        output.WriteLine($"pack took {package.Pack.Elapsed.TotalSeconds:F1} s");
        var expected = RuntimeAssemblies.SelectMany(a => new[] { $"lib/net10.0/{a}.dll", $"lib/net10.0/{a}.xml" }).Order(StringComparer.Ordinal);
        Assert.Equal(expected, package.Entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)));

        using var zip = ZipFile.OpenRead(package.PackagePath);
        foreach (var (assembly, documentedType) in new[]
                 {
                     ("Ioasid.Abstractions", "T:Ioasid.Pasid"),
                     ("Ioasid.Core", "T:Ioasid.Core.Iommufd.IommufdContext"),
                     ("Ioasid.Drivers", "T:Ioasid.Drivers.Hardware.Iotlb"),
                 })
        {
            Assert.Equal("System.Runtime 10.0.0.0", CoreLibrary(zip, $"lib/net10.0/{assembly}.dll"));
            using var docs = new StreamReader(zip.GetEntry($"lib/net10.0/{assembly}.xml")!.Open());
            var xml = docs.ReadToEnd();
            Assert.Contains($"<name>{assembly}</name>", xml);
            Assert.Contains($"<member name=\"{documentedType}\">", xml);
        }
    }

    [Fact]
    public void Analyzers_dotnet_cs_holds_the_generators_analyzers_and_code_fixes_for_netstandard2_0()
    {
        Assert.Equal(
            RoslynComponents.Select(c => $"analyzers/dotnet/cs/{c}.dll").Order(StringComparer.Ordinal),
            package.Entries.Where(e => e.StartsWith("analyzers/", StringComparison.Ordinal)));

        using var zip = ZipFile.OpenRead(package.PackagePath);
        foreach (var component in RoslynComponents)
        {
            // netstandard2.0, so every compiler host (the SDK's, Visual Studio's) can load it.
            Assert.Equal("netstandard 2.0.0.0", CoreLibrary(zip, $"analyzers/dotnet/cs/{component}.dll"));
        }

        // The analyzers reference only the compiler API (RS1038); the IDE-only Workspaces layer stays in the code fixes.
        Assert.DoesNotContain("Microsoft.CodeAnalysis.Workspaces", References(zip, "analyzers/dotnet/cs/Ioasid.Analyzers.dll"));
    }

    [Fact]
    public void Manifest_has_the_metadata_the_readme_and_no_dependencies()
    {
        string Field(string name) => package.Nuspec.Descendants().Single(e => e.Name.LocalName == name).Value;

        Assert.Equal("Ioasid", Field("id"));
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")));
        Assert.Contains("iommufd", Field("description"));
        Assert.Contains("iommu", Field("tags").Split(' '));
        var license = package.Nuspec.Descendants().Single(e => e.Name.LocalName == "license");
        Assert.Equal("expression", license.Attribute("type")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(license.Value));
        Assert.Equal("README.md", Field("readme"));
        Assert.Contains("README.md", package.Entries);

        // Everything is bundled: installing Ioasid pulls in no other package.
        var groups = package.Nuspec.Descendants().Where(e => e.Name.LocalName == "group").ToList();
        Assert.All(groups, g => Assert.Empty(g.Elements()));

        using var zip = ZipFile.OpenRead(package.PackagePath);
        using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
        Assert.Contains("<PackageReference Include=\"Ioasid\"", readme.ReadToEnd());
    }

    [Fact]
    public void Symbols_package_holds_portable_pdbs_with_generated_and_untracked_sources_embedded()
    {
        using var zip = ZipFile.OpenRead(package.SymbolsPath);
        var embeddedSource = new Guid("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
        foreach (var assembly in RuntimeAssemblies)
        {
            var entry = zip.GetEntry($"lib/net10.0/{assembly}.pdb");
            Assert.NotNull(entry);
            using var pdb = ToMemory(entry);
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
            var reader = provider.GetMetadataReader();
            var embedded = reader.CustomDebugInformation
                .Select(reader.GetCustomDebugInformation)
                .Where(c => reader.GetGuid(c.Kind) == embeddedSource && c.Parent.Kind == HandleKind.Document)
                .Select(c => (DocumentHandle)c.Parent)
                .ToHashSet();
            var documents = reader.Documents.Select(d => (Handle: d, Name: reader.GetString(reader.GetDocument(d).Name).Replace('\\', '/'))).ToList();

            // EmbedUntrackedSources: files that exist only in obj/ (assembly info, generator output) travel in the PDB,
            // so a debugger can show them; tracked sources are fetched through SourceLink instead.
            var untracked = documents.Where(d => d.Name.Contains("/obj/", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(untracked);
            Assert.All(untracked, d => Assert.True(embedded.Contains(d.Handle), $"{assembly}: {d.Name} is not embedded"));
            if (assembly != "Ioasid.Core")
            {
                // Abstractions has generated typed handles, Drivers generated ops tables.
                Assert.Contains(untracked, d => d.Name.EndsWith(".g.cs", StringComparison.Ordinal));
            }
        }
    }

    // The framework an assembly was compiled for shows in the core library it references.
    private static string CoreLibrary(ZipArchive zip, string path)
    {
        using var pe = new PEReader(ToMemory(zip.GetEntry(path)!));
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(reader.GetAssemblyReference)
            .Select(r => $"{reader.GetString(r.Name)} {r.Version}")
            .Single(r => r.StartsWith("netstandard ", StringComparison.Ordinal) || r.StartsWith("System.Runtime ", StringComparison.Ordinal));
    }

    private static List<string> References(ZipArchive zip, string path)
    {
        using var pe = new PEReader(ToMemory(zip.GetEntry(path)!));
        var reader = pe.GetMetadataReader();
        return reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).ToList();
    }

    private static MemoryStream ToMemory(ZipArchiveEntry entry)
    {
        var memory = new MemoryStream();
        using (var stream = entry.Open())
        {
            stream.CopyTo(memory);
        }

        memory.Position = 0;
        return memory;
    }
}
