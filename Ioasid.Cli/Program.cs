using System;
using System.IO;
using System.Linq;
using Ioasid.Cli.Commands;
using Ioasid.Cli.Scripting;

namespace Ioasid.Cli;

/// <summary>Entry point of the <c>ioasid</c> tool.</summary>
public static class Program
{
    private const string Usage = """
        usage: ioasid <command>
          ioasid demo                              run the built-in scenario
          ioasid run <script> [--stop-on-error] [--echo]
                                                   run a script file ('-' reads standard input)
          ioasid exec <command words...>           run one script command
          ioasid help [command]                    list script commands
        A script holds one command per line; '#' starts a comment. Every command prints one result;
        an error prints its errno and the script goes on (unless --stop-on-error).
        """;

    /// <summary>Runs the command line and returns the process exit code (0 ok, 1 a command failed, 2 usage).</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.In);

    /// <summary>Runs the command line against the given streams; the tests call this directly.</summary>
    internal static int Run(string[] args, TextWriter output, TextReader input)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        var table = CommandCatalog.Create();
        switch (args[0])
        {
            case "demo":
                output.WriteLine("# ioasid demo: the iommufd IOAS uAPI on a simulated machine");
                new ScriptRunner(table, new Session(), output) { Echo = true }.Run(new StringReader(DemoScript.Text));
                return 0;
            case "run" when args.Length >= 2:
                return RunScript(table, args, output, input);
            case "exec" when args.Length >= 2:
                var runner = new ScriptRunner(table, new Session(), output);
                return runner.RunLine(string.Join(' ', args[1..].Select(Quote))) ? 0 : 1;
            case "help":
                output.WriteLine(table.Help(args.Length > 1 ? string.Join(' ', args[1..]) : null));
                return 0;
            default:
                output.WriteLine($"ioasid: unknown command '{args[0]}'");
                output.WriteLine(Usage);
                return 2;
        }
    }

    private static int RunScript(CommandTable table, string[] args, TextWriter output, TextReader input)
    {
        var path = args[1];
        var stop = Array.IndexOf(args, "--stop-on-error") > 0;
        var echo = Array.IndexOf(args, "--echo") > 0;
        using var reader = path == "-" ? input : File.Exists(path) ? new StreamReader(path) : null;
        if (reader is null)
        {
            output.WriteLine($"ioasid: no script file '{path}'");
            return 2;
        }

        var runner = new ScriptRunner(table, new Session(), output) { Echo = echo, StopOnError = stop };
        runner.Run(reader);
        return runner.Failures == 0 ? 0 : 1;
    }

    private static string Quote(string word) => word.Contains(' ') ? $"\"{word}\"" : word;
}
