using System.Text;

namespace Ioasid.Generators.Common;

/// <summary>
/// A small indenting text writer for emitters. Generated text always uses "\n" (RS1035 bans
/// Environment.NewLine in generators, and snapshots must not depend on the host).
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
            _builder.Append(text);
        }

        _builder.Append('\n');
        return this;
    }

    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
        {
            Line(line);
        }

        return this;
    }

    public SourceWriter OpenBrace()
    {
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter CloseBrace(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => _builder.ToString();
}
