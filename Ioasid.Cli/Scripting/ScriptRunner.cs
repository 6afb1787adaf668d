using System;
using System.IO;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// Runs script lines against a session: one line of result per command; an error prints its errno name, the
/// C library's message and a plain sentence, and the script goes on unless told to stop at the first error.
/// </summary>
internal sealed class ScriptRunner(CommandTable table, Session session, TextWriter output)
{
    /// <summary>Print each command before its result (the demo does, to read like a transcript).</summary>
    public bool Echo { get; init; }

    /// <summary>Stop at the first failing command.</summary>
    public bool StopOnError { get; init; }

    /// <summary>Number of commands that failed so far.</summary>
    public int Failures { get; private set; }

    /// <summary>Runs every line of <paramref name="script"/>; returns false when it stopped on an error.</summary>
    public bool Run(TextReader script)
    {
        var lineNumber = 0;
        while (script.ReadLine() is { } line)
        {
            lineNumber++;
            if (!RunLine(line, lineNumber) && StopOnError)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Runs one line; returns false when it failed.</summary>
    public bool RunLine(string line, int lineNumber = 0)
    {
        var where = lineNumber > 0 ? $"line {lineNumber}: " : string.Empty;
        try
        {
            var words = Tokenizer.Split(line);
            if (words.Count == 0)
            {
                return true;
            }

            if (Echo)
            {
                output.WriteLine("$ " + string.Join(' ', words));
            }

            if (!table.TryResolve(words, out var command, out var nameWords))
            {
                throw new CommandException($"unknown command '{string.Join(' ', words.GetRange(0, Math.Min(2, words.Count)))}' (try 'help')");
            }

            var args = new CommandArgs(words.GetRange(nameWords, words.Count - nameWords), command.Flags, command.ValueOptions);
            if (args.Flag("help"))
            {
                output.WriteLine(table.Help(command.Name));
                return true;
            }

            output.WriteLine(command.Run(session, args));
            return true;
        }
        catch (IoasidException error)
        {
            Failures++;
            output.WriteLine($"{where}error: {error.Errno} ({error.Errno.Message()}): {error.Detail}");
            return false;
        }
        catch (CommandException error)
        {
            Failures++;
            output.WriteLine($"{where}usage error: {error.Message}");
            return false;
        }
    }
}
