using Ioasid.Cli;
using Ioasid.TestKit;

namespace Ioasid.Cli.Tests;

public class ScriptTests
{
    private static (int Exit, string Output) Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(args, output, TextReader.Null);
        return (exit, output.ToString());
    }

    [Fact]
    public void A_script_file_runs_every_line_and_reports_errors_by_errno()
    {
        var (exit, output) = Run("run", Path.Combine(AppContext.BaseDirectory, "Scripts", "ioas-basics.ioasid"));

        Assert.Equal(1, exit); // some commands failed, on purpose
        Snapshot.Verify(output);
    }

    [Fact]
    public void Stop_on_error_stops_at_the_first_failure()
    {
        var (exit, output) = Run("run", Path.Combine(AppContext.BaseDirectory, "Scripts", "ioas-basics.ioasid"), "--stop-on-error");

        Assert.Equal(1, exit);
        Assert.EndsWith("line 7: error: EEXIST (File exists): [0x108000, 0x108fff] overlaps an existing mapping\n", output);
        Assert.DoesNotContain("ENOENT", output);
    }

    [Fact]
    public void Smmu_script_dumps_ste_cd_domain_walk_events_and_caches()
    {
        var (exit, output) = Run("run", Path.Combine(AppContext.BaseDirectory, "Scripts", "smmu-basics.ioasid"), "--echo");

        Assert.Equal(1, exit); // the last line fails on purpose: a device outside the iommu-map
        Assert.Contains("S1DSS=Substream0", output);
        Assert.Contains("read 0x100000: \"hellSMMUmu\"", output);
        Snapshot.Verify(output);
    }

    [Fact]
    public void Demo_runs_the_built_in_scenario()
    {
        var (exit, output) = Run("demo");

        Assert.Equal(0, exit);
        Snapshot.Verify(output);
    }

    [Fact]
    public void Exec_runs_one_command()
    {
        var (exit, output) = Run("exec", "ioas", "alloc");
        Assert.Equal(0, exit);
        Assert.Equal("ioas 1\n", output);

        (exit, output) = Run("exec", "destroy", "0");
        Assert.Equal(1, exit);
        Assert.Equal("error: ENOENT (No such file or directory): no object with id 0\n", output);
    }

    [Fact]
    public void Help_lists_commands_and_usage_errors_are_not_errno()
    {
        var (exit, output) = Run("help", "ioas");
        Assert.Equal(0, exit);
        Assert.Contains("ioas map <ioas> <va> <length>", output);
        Assert.DoesNotContain("memfd create", output);

        (exit, output) = Run("exec", "ioas", "map", "1", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("IOMMU_IOAS_MAP of process memory", output);

        Assert.Equal(2, Run().Exit);
        Assert.Equal(2, Run("frobnicate").Exit);
        Assert.Equal(2, Run("run", "/no/such/script").Exit);
    }

    [Fact]
    public void A_script_can_come_from_standard_input()
    {
        var output = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(["run", "-"], output, new StringReader("ioas alloc\nioas ranges 1\n"));

        Assert.Equal(0, exit);
        Assert.Equal("ioas 1\nioas 1: alignment 0x1, ranges [0x0, 0xffffffffffffffff]\n", output.ToString());
    }
}

public class VtdScriptTests
{
    [Fact]
    public void A_vtd_script_brings_up_a_unit_does_dma_and_dumps_its_tables()
    {
        var output = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(["run", Path.Combine(AppContext.BaseDirectory, "Scripts", "vtd.ioasid")], output, TextReader.Null);

        Assert.Equal(1, exit); // the last line adds a unit twice: EEXIST
        var text = output.ToString();
        Assert.Contains("\"hello vt-d\"", text);
        Assert.Contains("fault ReadNotPermitted (0x6)", text);
        Snapshot.Verify(text);
    }
}
