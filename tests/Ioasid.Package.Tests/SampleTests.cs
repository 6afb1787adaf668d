using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Ioasid.Package.Tests;

/// <summary>
/// The samples, restored from the freshly packed package only: an out-of-tree driver that must build cleanly and do
/// DMA, and a file of deliberate mistakes whose build must report each one with its IOA id.
/// </summary>
[Collection(PackedPackageCollection.Name)]
public sealed partial class SampleTests(PackedPackageFixture package, ITestOutputHelper output)
{
    // Severity of each rule the misuse sample exercises, as the analyzers declare it.
    private static readonly Dictionary<string, string> Severities = new()
    {
        ["IOA001"] = "error",
        ["IOA004"] = "error",
        ["IOA005"] = "warning",
        ["IOA007"] = "warning",
    };

    [Fact]
    public void Driver_sample_built_from_the_package_alone_does_dma_through_its_own_page_tables()
    {
        var build = package.RunSampleCommand("TinyIommu", "build", "-c", "Release");
        output.WriteLine($"pack {package.Pack.Elapsed.TotalSeconds:F1} s; restore + build of the driver sample {build.Elapsed.TotalSeconds:F1} s");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.DoesNotMatch(@": warning [A-Z]+\d+", build.Output);

        // The package restored is byte for byte the one just packed (the private packages folder had nothing else).
        var restored = Path.Combine(package.GlobalPackages, "ioasid", package.Version.ToLowerInvariant());
        var hash = File.ReadAllText(Path.Combine(restored, $"ioasid.{package.Version.ToLowerInvariant()}.nupkg.sha512")).Trim();
        Assert.Equal(Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(package.PackagePath))), hash);

        var dll = Path.Combine(package.Samples, "TinyIommu", "bin", "Release", "net10.0", "TinyIommu.dll");
        var run = DotnetCli.Run(Path.GetDirectoryName(dll)!, null, dll);
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("registered driver 'tiny-iommu' (generated ops table)", run.Output);
        Assert.Contains("DMA read ok: \"hello from user memory\"", run.Output);
        Assert.Contains("DMA write ok: the process reads \"written by DMA\"", run.Output);
        Assert.Contains("after unmap: DMA faults with Translation", run.Output);
        Assert.Contains("tiny-iommu sample: PASS", run.Output);
    }

    [Fact]
    public void Misuse_sample_build_reports_every_marked_mistake_with_its_IOA_id_and_nothing_else()
    {
        var source = Path.Combine(package.Samples, "Misuse", "Misuse.cs");
        var expected = MarkedMistakes(File.ReadAllLines(source));
        Assert.Equal(Severities.Keys.Order(), expected.Select(m => m.Id).Distinct().Order());

        var build = package.RunSampleCommand("Misuse", "build", "-c", "Release");
        output.WriteLine($"restore + build of the misuse sample {build.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(build.Output);

        // IOA001 and IOA004 are errors, so the build fails; it must fail for them alone, not for a compile error.
        Assert.NotEqual(0, build.ExitCode);
        Assert.DoesNotMatch(@"error CS\d{4}", build.Output);

        var reported = Diagnostic().Matches(build.Output)
            .Select(m => (Line: int.Parse(m.Groups["line"].Value), Id: m.Groups["id"].Value, Severity: m.Groups["severity"].Value))
            .Distinct()
            .ToList();
        Assert.Equal(
            expected.Select(m => $"line {m.Line}: {m.Id}").Order(),
            reported.Select(r => $"line {r.Line}: {r.Id}").Order());
        Assert.All(reported, r => Assert.Equal(Severities[r.Id], r.Severity));
    }

    // A comment "// IOAnnn: ..." marks the next code line as a mistake the analyzers report with that id.
    private static List<(int Line, string Id)> MarkedMistakes(string[] lines)
    {
        var marks = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var mark = Marker().Match(lines[i]);
            if (!mark.Success)
            {
                continue;
            }

            var target = i + 1;
            while (target < lines.Length && (lines[target].TrimStart().StartsWith("//", StringComparison.Ordinal) || lines[target].Trim().Length == 0))
            {
                target++;
            }

            marks.Add((target + 1, mark.Groups["id"].Value));
        }

        return marks;
    }

    [GeneratedRegex(@"^\s*// (?<id>IOA\d{3}):")]
    private static partial Regex Marker();

    [GeneratedRegex(@"Misuse\.cs\((?<line>\d+),\d+\): (?<severity>error|warning) (?<id>IOA\d{3}):")]
    private static partial Regex Diagnostic();
}
