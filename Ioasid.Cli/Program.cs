using System;

namespace Ioasid.Cli;

/// <summary>Entry point of the <c>ioasid</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: ioasid demo");
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] == "demo")
        {
            return Demo();
        }

        Console.Error.WriteLine($"ioasid: unknown command '{args[0]}' (try --help)");
        return 2;
    }

    private static int Demo()
    {
        var rid = Rid.Parse("0000:00:02.0");
        Console.WriteLine($"rid {rid}: segment {rid.Segment}, bus {rid.Bus}, device {rid.Device}, function {rid.Function}, bdf 0x{rid.Bdf:x4}");
        Console.WriteLine($"pasid {Pasid.NoPasid} is IOMMU_NO_PASID; largest pasid {Pasid.MaxValue}");
        Console.WriteLine($"pasid 0x100000 valid: {Pasid.IsValid(0x100000)}");
        var iova = new Iova(0x12345);
        Console.WriteLine($"iova {iova}: page {iova.AlignDown(AddressMath.PageSize)} offset 0x{iova.PageOffset:x}");
        return 0;
    }
}
