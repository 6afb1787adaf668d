namespace Ioasid.Cli;

/// <summary>Entry point of the <c>ioasid</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        System.Console.WriteLine("ioasid: nothing here yet");
        return 0;
    }
}
