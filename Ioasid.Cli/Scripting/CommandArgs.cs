using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// The words after a command's name: positionals in order, and <c>--name value</c> or <c>--flag</c> options.
/// Numbers accept decimal, <c>0x</c> hex and the size suffixes K, M, G, T (powers of 1024).
/// </summary>
internal sealed class CommandArgs
{
    private readonly List<string> _positionals = new();
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private int _nextPositional;

    public CommandArgs(IReadOnlyList<string> words, IReadOnlySet<string> flags, IReadOnlySet<string> valueOptions)
    {
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (word.StartsWith("--", StringComparison.Ordinal) && word.Length > 2)
            {
                var name = word[2..];
                if (valueOptions.Contains(name))
                {
                    if (i + 1 >= words.Count)
                    {
                        throw new CommandException($"option --{name} needs a value");
                    }

                    _options[name] = words[++i];
                }
                else if (flags.Contains(name))
                {
                    _options[name] = null;
                }
                else
                {
                    throw new CommandException($"unknown option --{name}");
                }
            }
            else
            {
                _positionals.Add(word);
            }
        }
    }

    public int PositionalCount => _positionals.Count;

    public bool HasMore => _nextPositional < _positionals.Count;

    public string Next(string what)
    {
        if (_nextPositional >= _positionals.Count)
        {
            throw new CommandException($"missing <{what}>");
        }

        return _positionals[_nextPositional++];
    }

    public string? NextOrNull() => _nextPositional < _positionals.Count ? _positionals[_nextPositional++] : null;

    public ulong NextNumber(string what) => ParseNumber(Next(what), what);

    public uint NextUInt(string what)
    {
        var value = NextNumber(what);
        return value <= uint.MaxValue ? (uint)value : throw new CommandException($"<{what}> does not fit in 32 bits");
    }

    public T NextHandle<T>(string what)
        where T : ISpanParsable<T>
    {
        var text = Next(what);
        return T.TryParse(text, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CommandException($"'{text}' is not a valid <{what}>");
    }

    public bool Flag(string name) => _options.ContainsKey(name);

    public string? Option(string name) => _options.TryGetValue(name, out var value) ? value : null;

    public ulong? NumberOption(string name) => Option(name) is { } text ? ParseNumber(text, "--" + name) : null;

    /// <summary>
    /// Called by a handler once it has read its arguments and before it acts: fails on surplus words, so a
    /// typo never runs a half-understood command.
    /// </summary>
    public void Done()
    {
        if (_nextPositional < _positionals.Count)
        {
            throw new CommandException($"unexpected argument '{_positionals[_nextPositional]}'");
        }
    }

    public static ulong ParseNumber(string text, string what)
    {
        var span = text.AsSpan();
        ulong multiplier = 1;
        if (span.Length > 1 && !span.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            multiplier = char.ToUpperInvariant(span[^1]) switch
            {
                'K' => 1UL << 10,
                'M' => 1UL << 20,
                'G' => 1UL << 30,
                'T' => 1UL << 40,
                _ => 1,
            };
            if (multiplier != 1)
            {
                span = span[..^1];
            }
        }

        var ok = span.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (text == "max")
        {
            return ulong.MaxValue;
        }

        if (!ok)
        {
            throw new CommandException($"'{text}' is not a number for <{what}>");
        }

        try
        {
            return checked(value * multiplier);
        }
        catch (OverflowException)
        {
            throw new CommandException($"'{text}' does not fit in 64 bits");
        }
    }
}
