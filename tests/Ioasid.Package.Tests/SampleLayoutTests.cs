using System.Xml.Linq;

namespace Ioasid.Package.Tests;

/// <summary>The samples stay out-of-tree consumers: package references only, outside the solution, fed by a local feed.</summary>
public sealed class SampleLayoutTests
{
    [Fact]
    public void Sample_projects_reference_the_Ioasid_package_and_no_repository_project()
    {
        var projects = Directory.GetFiles(RepositoryLayout.Samples, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(projects);
        foreach (var project in projects)
        {
            var xml = XDocument.Load(project);
            Assert.Empty(xml.Descendants("ProjectReference"));
            Assert.Contains(xml.Descendants("PackageReference"), r => (string?)r.Attribute("Include") == "Ioasid");
        }
    }

    [Fact]
    public void Samples_are_not_part_of_the_solution()
    {
        var solution = File.ReadAllText(RepositoryLayout.Solution);
        Assert.DoesNotContain("samples\\", solution, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("samples/", solution, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Samples_nuget_config_takes_Ioasid_from_the_local_feed_only()
    {
        var config = XDocument.Load(Path.Combine(RepositoryLayout.Samples, "nuget.config"));
        var local = config.Descendants("packageSources").Elements("add")
            .Single(a => (string?)a.Attribute("value") == "../artifacts/packages");
        var mapped = config.Descendants("packageSourceMapping").Elements("packageSource")
            .Where(s => s.Elements("package").Any(p => (string?)p.Attribute("pattern") == "Ioasid"))
            .Select(s => (string?)s.Attribute("key"));
        Assert.Equal([(string?)local.Attribute("key")], mapped);
    }
}
