using System;
using System.Collections.Generic;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// One script command: its words (e.g. "ioas map"), usage, a one-line summary, its options, and the handler
/// that runs it against a session and returns its one line of result. Options are declared as "name" for a
/// flag and "name=" for an option that takes a value; any other option is refused before the command runs.
/// </summary>
internal sealed record Command(
    string Name,
    string Usage,
    string Summary,
    Func<Session, CommandArgs, string> Run,
    IReadOnlySet<string> Flags,
    IReadOnlySet<string> ValueOptions)
{
    public static Command Create(string name, string usage, string summary, Func<Session, CommandArgs, string> run, params string[] options)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal) { "help" };
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            if (option.EndsWith('='))
            {
                values.Add(option[..^1]);
            }
            else
            {
                flags.Add(option);
            }
        }

        return new(name, usage, summary, run, flags, values);
    }
}
