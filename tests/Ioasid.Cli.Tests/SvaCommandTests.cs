using Ioasid.Cli;

namespace Ioasid.Cli.Tests;

public class SvaCommandTests
{
    [Fact]
    public void Sva_script_binds_the_process_and_the_device_reads_and_writes_process_addresses()
    {
        var output = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(["run", Path.Combine(AppContext.BaseDirectory, "Scripts", "sva.ioasid")], output, TextReader.Null);
        var lines = output.ToString().Split('\n');

        Assert.Equal(1, exit); // the last unbind fails on purpose
        Assert.Contains("no CPU page table: the process was never bound for SVA", lines);
        Assert.Contains(lines, l => l.StartsWith("sva accel: pid ", StringComparison.Ordinal) && l.Contains("on pasid 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("va 0x7f0000000000: level 1 entry 0x80000000", StringComparison.Ordinal) && l.Contains("(P RW US A D XD)", StringComparison.Ordinal));
        Assert.Contains("va 0x7f0000001000: not present (level 1)", lines);
        Assert.Contains("dma accel pasid 1 read 0x7f0000000000: \"hello sva\"", lines);
        Assert.Contains(lines, l => l.Contains("hello dev", StringComparison.Ordinal)); // the device's write, read by the CPU
        Assert.Contains(lines, l => l.StartsWith("dma accel pasid 1 read 0x7f0000001000: fault", StringComparison.Ordinal) && l.Contains("71", StringComparison.Ordinal));
        Assert.Contains("dma accel pasid 1 read 0x7f0000001000: \"new\"", lines);
        Assert.Contains(lines, l => l.StartsWith("dma accel pasid 1 read 0x7f0000000000: fault", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("2 user(s)", StringComparison.Ordinal));
        Assert.Contains("sva accel: pasid 1 still has 1 user(s)", lines);
        Assert.Contains("sva accel: pasid 1 unbound", lines);
        Assert.Contains(lines, l => l.Contains("ENOENT", StringComparison.Ordinal));
    }
}
