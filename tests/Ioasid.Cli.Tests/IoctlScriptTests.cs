using Ioasid.Cli;
using Ioasid.TestKit;

namespace Ioasid.Cli.Tests;

public class IoctlScriptTests
{
    [Fact]
    public void Ioctl_script_sends_raw_commands_and_prints_the_structs_written_back()
    {
        var output = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(["run", Path.Combine(AppContext.BaseDirectory, "Scripts", "ioctl.ioasid")], output, TextReader.Null);

        Assert.Equal(1, exit); // some lines fail on purpose
        var text = output.ToString();
        Assert.Contains("IOMMU_IOAS_ALLOC = 0: size=12 flags=0 out_ioas_id=1", text);
        Assert.Contains("error: EMSGSIZE (Message too long): IOMMU_IOAS_IOVA_RANGES: size=32 ioas_id=1 num_iovas=1", text);
        Assert.Contains("error: E2BIG", text);
        Assert.Contains("out_data_type=0xfeedbeef", text);
        Snapshot.Verify(text);
    }
}
