using System.Collections.Generic;
using System.Linq;
using Ioasid.Cli.Scripting;

namespace Ioasid.Cli.Commands;

/// <summary>The one table of script commands: every command family adds its rows here.</summary>
internal static class CommandCatalog
{
    public static CommandTable Create()
    {
        CommandTable? table = null;
        var help = Command.Create("help", "help [command]", "list commands, or those starting with the given words",
            (_, a) =>
            {
                var words = new List<string>();
                while (a.NextOrNull() is { } word)
                {
                    words.Add(word);
                }

                return table!.Help(words.Count == 0 ? null : string.Join(' ', words));
            });
        table = new CommandTable(
            new[] { help }
                .Concat(ContextCommands.All())
                .Concat(IoasCommands.All())
                .Concat(MemoryCommands.All())
                .Concat(DeviceCommands.All())
                .Concat(VtdCommands.All())
                .Concat(IoctlCommands.All())
                .Concat(SmmuCommands.All())
                .Concat(SvaCommands.All()));
        return table;
    }
}
