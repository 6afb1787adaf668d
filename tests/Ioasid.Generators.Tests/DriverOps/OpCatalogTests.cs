using System.Reflection;
using System.Runtime.CompilerServices;
using Ioasid.Core.Iommu;
using Ioasid.Generators.Diagnostics;
using Ioasid.Generators.DriverOps;
using Microsoft.CodeAnalysis;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>
/// The generator never loads the runtime assemblies, so its catalogue of ops must be kept in step with the attribute
/// enums and the tables by hand; these tests fail when either side changes alone. Also: every driver-ops diagnostic
/// has a documentation page and a release-tracking row.
/// </summary>
public sealed class OpCatalogTests
{
    [Fact]
    public void Iommu_op_catalogue_follows_IommuOpKind_and_IommuOps()
    {
        Assert.Equal(Enum.GetNames<IommuOpKind>(), OpCatalog.IommuOps.Select(s => s.Member));
        Assert.Equal(Enumerable.Range(0, OpCatalog.IommuOps.Length), Enum.GetValues<IommuOpKind>().Select(k => (int)k));
        AssertTableMatches(typeof(IommuOps), OpCatalog.IommuOps, extraMembers: ["Name"]);
    }

    [Fact]
    public void Domain_op_catalogue_follows_DomainOpKind_and_DomainOps()
    {
        Assert.Equal(Enum.GetNames<DomainOpKind>(), OpCatalog.DomainOps.Select(s => s.Member));
        Assert.Equal(Enumerable.Range(0, OpCatalog.DomainOps.Length), Enum.GetValues<DomainOpKind>().Select(k => (int)k));
        AssertTableMatches(typeof(DomainOps), OpCatalog.DomainOps, extraMembers: []);
    }

    [Fact]
    public void Required_ops_are_the_required_members_of_IommuOps()
    {
        var required = typeof(IommuOps).GetProperties()
            .Where(p => p.GetCustomAttribute<RequiredMemberAttribute>() is not null)
            .Select(p => p.Name)
            .Where(n => n != "Name")
            .Order();
        Assert.Equal(OpCatalog.IommuOps.Where(s => s.Requirement == OpRequirement.Required).Select(s => s.Member).Order(), required);
    }

    [Fact]
    public void Every_driver_ops_diagnostic_has_a_page_and_a_release_row()
    {
        var root = RepositoryRoot();
        var releases = File.ReadAllText(Path.Combine(root, "Ioasid.Generators", "AnalyzerReleases.Unshipped.md"));
        var descriptors = typeof(GeneratorDiagnostics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .Where(d => string.CompareOrdinal(d.Id, "IOAG010") >= 0 && string.CompareOrdinal(d.Id, "IOAG019") <= 0)
            .ToArray();
        Assert.Equal(8, descriptors.Length);
        foreach (var descriptor in descriptors)
        {
            var page = Path.Combine(root, "docs", "diagnostics", descriptor.Id + ".md");
            Assert.True(File.Exists(page), $"{descriptor.Id} has no page at {page}");
            var text = File.ReadAllText(page);
            Assert.StartsWith($"# {descriptor.Id}: {descriptor.Title}", text, StringComparison.Ordinal);
            Assert.EndsWith($"/docs/diagnostics/{descriptor.Id}.md", descriptor.HelpLinkUri, StringComparison.Ordinal);
            Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
            Assert.Contains($"{descriptor.Id} | Ioasid.Generators | Error | DriverOpsGenerator:", releases, StringComparison.Ordinal);
        }
    }

    private static void AssertTableMatches(Type table, IEnumerable<OpSpec> specs, string[] extraMembers)
    {
        var properties = table.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null).ToDictionary(p => p.Name);
        Assert.Equal(specs.Select(s => s.Member).Concat(extraMembers).Order(), properties.Keys.Order());
        foreach (var spec in specs)
        {
            var type = properties[spec.Member].PropertyType;
            switch (spec.Shape)
            {
                case OpShape.Method:
                    Assert.Equal(typeof(IommuOps).Assembly.GetType($"{OpCatalog.CoreNamespace}.{spec.DelegateName}", throwOnError: true), type);
                    Assert.True(typeof(Delegate).IsAssignableFrom(type));
                    break;
                case OpShape.DomainProperty:
                    Assert.Equal(typeof(IommuDomain), type);
                    break;
                default:
                    Assert.Equal(typeof(DomainOps), type);
                    break;
            }
        }
    }

    private static string RepositoryRoot([CallerFilePath] string path = "")
    {
        for (var dir = Path.GetDirectoryName(path); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Ioasid.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"No Ioasid.sln above {path}");
    }
}
