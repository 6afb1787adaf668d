using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Ioasid.TestKit;

/// <summary>
/// Metadata references for test compilations (substitute for Basic.Reference.Assemblies / the testing packages'
/// <c>ReferenceAssemblies.Net.Net100</c>): the net10.0 reference assemblies of the SDK reference pack, whose folder
/// is baked into this assembly at build time (<c>[AssemblyMetadata("NetCoreRefPackDir", …)]</c>), plus helpers
/// that add project assemblies by location.
/// </summary>
public static class TestReferences
{
    /// <summary>Key of the <see cref="AssemblyMetadataAttribute"/> holding the reference-pack folder.</summary>
    public const string RefPackMetadataKey = "NetCoreRefPackDir";

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyNet100 = new(LoadRefPack);
    private static readonly ConcurrentDictionary<string, MetadataReference> ByPath = new(StringComparer.Ordinal);

    /// <summary>Folder of the net10.0 reference pack (…/packs/Microsoft.NETCore.App.Ref/{version}/ref/net10.0).</summary>
    public static string RefPackDirectory { get; } = ReadRefPackDirectory();

    /// <summary>All reference assemblies of the net10.0 reference pack, ordered by file name; loaded once.</summary>
    public static ImmutableArray<MetadataReference> Net100 => LazyNet100.Value;

    /// <summary>Simple names (file names without <c>.dll</c>) of the reference-pack assemblies.</summary>
    public static ImmutableHashSet<string> Net100AssemblyNames { get; } =
        Directory.EnumerateFiles(RefPackDirectory, "*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToImmutableHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary><see cref="Net100"/> plus the given (project) assemblies, e.g. <c>With(typeof(TypedHandleAttribute&lt;&gt;).Assembly)</c>.</summary>
    public static ImmutableArray<MetadataReference> With(params Assembly[] assemblies)
        => Net100.AddRange(FromAssemblies(assemblies));

    /// <summary>References to the given assemblies' files (cached per path, duplicates removed).</summary>
    public static ImmutableArray<MetadataReference> FromAssemblies(params Assembly[] assemblies)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        return assemblies.Select(FromAssembly).Distinct().ToImmutableArray();
    }

    /// <summary>A reference to one assembly's file (cached per path).</summary>
    public static MetadataReference FromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location))
        {
            throw new ArgumentException($"Assembly '{assembly.FullName}' has no file location; only assemblies loaded from disk can be referenced.", nameof(assembly));
        }

        return FromFile(assembly.Location);
    }

    /// <summary>A reference to an assembly file (cached per full path).</summary>
    public static MetadataReference FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ByPath.GetOrAdd(Path.GetFullPath(path), static p => MetadataReference.CreateFromFile(p));
    }

    private static string ReadRefPackDirectory()
    {
        var value = typeof(TestReferences).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == RefPackMetadataKey)?.Value;
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidOperationException(
                $"Ioasid.TestKit was built without [AssemblyMetadata(\"{RefPackMetadataKey}\", …)]; see tests/Ioasid.TestKit/Ioasid.TestKit.csproj.");
        }

        if (!Directory.Exists(value))
        {
            throw new DirectoryNotFoundException(
                $"The net10.0 reference pack baked in at build time does not exist: '{value}'. Rebuild Ioasid.TestKit with the installed SDK.");
        }

        return value;
    }

    private static ImmutableArray<MetadataReference> LoadRefPack()
        => Directory.EnumerateFiles(RefPackDirectory, "*.dll")
            .Order(StringComparer.Ordinal)
            .Select(FromFile)
            .ToImmutableArray();
}
