using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Ioasid.TestKit;

/// <summary>
/// Walks an incremental-pipeline model's object graph by reflection (fields including private and inherited ones,
/// collections, arrays, tuples; each reference object visited once) and reports members that hold Roslyn objects
/// which must not cross pipeline stages: they defeat caching and keep whole compilations alive.
/// </summary>
public static class ModelGraph
{
    private const int MaxDepth = 64;

    /// <summary>Types a pipeline model must never be or contain (checked with <see cref="Type.IsAssignableFrom"/>).</summary>
    public static ImmutableArray<Type> ForbiddenTypes { get; } =
    [
        typeof(ISymbol),
        typeof(SyntaxNode),
        typeof(SyntaxToken),
        typeof(SyntaxTrivia),
        typeof(SyntaxNodeOrToken),
        typeof(SyntaxTree),
        typeof(Compilation),
        typeof(SemanticModel),
        typeof(Location),
        typeof(AttributeData),
        typeof(IOperation),
        typeof(Diagnostic),
    ];

    /// <summary>
    /// Returns one entry per offending member, e.g. <c>Model[0].Symbol is Microsoft.CodeAnalysis.ISymbol (SourceNamedTypeSymbol)</c>;
    /// empty when the graph holds only plain values.
    /// </summary>
    /// <param name="root">The object to inspect (e.g. a step output value).</param>
    /// <param name="rootName">How the root is named in the reported paths.</param>
    public static IReadOnlyList<string> FindForbidden(object? root, string rootName)
    {
        ArgumentNullException.ThrowIfNull(rootName);
        var findings = new List<string>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Visit(root, rootName, 0, visited, findings);
        return findings;
    }

    private static void Visit(object? value, string path, int depth, HashSet<object> visited, List<string> findings)
    {
        if (value is null || depth > MaxDepth)
        {
            return;
        }

        var type = value.GetType();
        if (IsLeaf(type) || (!type.IsValueType && !visited.Add(value)))
        {
            return;   // plain value, or an object already walked (cycles, shared references: reported once)
        }

        var forbidden = ForbiddenTypes.FirstOrDefault(t => t.IsInstanceOfType(value));
        if (forbidden is not null)
        {
            findings.Add($"{path} is {forbidden.FullName} ({type.Name})");
            return;
        }

        var enumerated = false;
        if (value is IDictionary dictionary)
        {
            var index = 0;
            foreach (DictionaryEntry entry in dictionary)
            {
                var key = entry.Key is string s ? $"\"{s}\"" : entry.Key.ToString();
                Visit(entry.Key, $"{path}.Keys[{index}]", depth + 1, visited, findings);
                Visit(entry.Value, $"{path}[{key}]", depth + 1, visited, findings);
                index++;
            }

            enumerated = true;
        }
        else if (value is IEnumerable sequence && !IsDefaultImmutableArray(value, type))
        {
            var index = 0;
            foreach (var item in sequence)
            {
                Visit(item, $"{path}[{index}]", depth + 1, visited, findings);
                index++;
            }

            enumerated = true;
        }

        // BCL collections are fully described by their elements; everything else (models, tuples,
        // user collection wrappers) is walked field by field as well.
        if (enumerated && IsFrameworkType(type))
        {
            return;
        }

        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRef)
                {
                    continue;
                }

                Visit(field.GetValue(value), $"{path}.{MemberName(field)}", depth + 1, visited, findings);
            }
        }
    }

    private static bool IsLeaf(Type type)
        => type.IsPrimitive || type.IsEnum || type.IsPointer
           || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime) || type == typeof(DateTimeOffset)
           || type == typeof(TimeSpan) || type == typeof(Guid) || type == typeof(Version)
           || typeof(Type).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type)
           || typeof(Delegate).IsAssignableFrom(type);

    private static bool IsFrameworkType(Type type)
        => type.Namespace is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal));

    private static bool IsDefaultImmutableArray(object value, Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>)
           && type.GetProperty(nameof(ImmutableArray<int>.IsDefault))?.GetValue(value) is true;

    // "<Name>k__BackingField" (auto-property / record positional parameter) reads as "Name".
    private static string MemberName(FieldInfo field)
    {
        var name = field.Name;
        const string Suffix = ">k__BackingField";
        return name.StartsWith('<') && name.EndsWith(Suffix, StringComparison.Ordinal)
            ? name[1..^Suffix.Length]
            : name;
    }
}
