namespace Ioasid.Generators.Common;

/// <summary>Escapes user text placed in generated XML documentation comments.</summary>
internal static class XmlText
{
    public static string Escape(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
