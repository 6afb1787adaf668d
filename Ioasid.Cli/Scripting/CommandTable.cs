using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// Every script command in one table, looked up by its longest matching name ("ioas map" before "ioas").
/// Later features add rows, never string compares in a switch.
/// </summary>
internal sealed class CommandTable
{
    private readonly Dictionary<string, Command> _commands = new(StringComparer.Ordinal);

    public CommandTable(IEnumerable<Command> commands)
    {
        foreach (var command in commands)
        {
            _commands.Add(command.Name, command);
        }
    }

    public IEnumerable<Command> All => _commands.Values.OrderBy(c => c.Name, StringComparer.Ordinal);

    /// <summary>Finds the command named by the first words of <paramref name="words"/>; returns how many words it used.</summary>
    public bool TryResolve(IReadOnlyList<string> words, out Command command, out int nameWords)
    {
        for (nameWords = Math.Min(3, words.Count); nameWords > 0; nameWords--)
        {
            var name = string.Join(' ', words.Take(nameWords));
            if (_commands.TryGetValue(name, out command!))
            {
                return true;
            }
        }

        command = null!;
        return false;
    }

    /// <summary>The help text: every command, or those whose name starts with <paramref name="prefix"/>.</summary>
    public string Help(string? prefix = null)
    {
        var text = new StringBuilder();
        var rows = All.Where(c => prefix is null || c.Name == prefix || c.Name.StartsWith(prefix + " ", StringComparison.Ordinal)).ToList();
        if (rows.Count == 0)
        {
            return $"no command named '{prefix}'";
        }

        var width = rows.Max(c => c.Usage.Length);
        foreach (var command in rows)
        {
            text.Append("  ").Append(command.Usage.PadRight(width)).Append("  ").Append(command.Summary).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }
}
