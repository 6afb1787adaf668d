using System.Collections.Generic;
using System.Text;

namespace Ioasid.Cli.Scripting;

/// <summary>Splits one script line into words: blanks separate, double quotes group, <c>#</c> starts a comment.</summary>
internal static class Tokenizer
{
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inQuotes = false;
        var hasWord = false;
        foreach (var c in line)
        {
            if (inQuotes)
            {
                if (c == '"')
                {
                    inQuotes = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                inQuotes = true;
                hasWord = true;
            }
            else if (c == '#')
            {
                break;
            }
            else if (char.IsWhiteSpace(c))
            {
                Flush();
            }
            else
            {
                current.Append(c);
                hasWord = true;
            }
        }

        if (inQuotes)
        {
            throw new CommandException("unterminated quote");
        }

        Flush();
        return words;

        void Flush()
        {
            if (hasWord)
            {
                words.Add(current.ToString());
                current.Clear();
                hasWord = false;
            }
        }
    }
}
