// These fixtures are instantiated directly by the tests and never loaded by a compiler, so the packaging
// rules for shipped compiler extensions (netstandard2.0 only, no Workspaces reference, release tracking) do not apply.
#pragma warning disable RS1036, RS1038, RS1041, RS2008

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.TestKit.Tests.Fixtures;

// Small generators used to exercise GeneratorHarness: one well-behaved, three with typical caching mistakes.

public static class HelloTrackingNames
{
    public const string Models = "HelloModels";
    public const string Diagnostics = "HelloDiagnostics";
}

/// <summary>A value-only location (a Location would defeat caching).</summary>
public readonly record struct LocationInfo(string Path, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo From(SyntaxToken token)
    {
        var location = token.GetLocation();
        return new LocationInfo(location.SourceTree?.FilePath ?? string.Empty, location.SourceSpan, location.GetLineSpan().Span);
    }

    public Location ToLocation() => Location.Create(Path, Span, LineSpan);
}

public sealed record HelloModel(string Namespace, string Name, bool IsPartial, LocationInfo Location);

/// <summary>Well-behaved: [GenerateHello] on a partial class adds a Hello() method; non-partial gives TKG001.</summary>
[Generator]
public sealed class HelloGenerator : IIncrementalGenerator
{
    public const string AttributeName = "TestKitGen.GenerateHelloAttribute";

    public static readonly DiagnosticDescriptor MustBePartial = new(
        "TKG001", "Class must be partial", "Class '{0}' must be declared partial to use [GenerateHello]",
        "TestKit", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        context.RegisterPostInitializationOutput(static c => c.AddSource("GenerateHelloAttribute.g.cs",
            "namespace TestKitGen\n{\n    [System.AttributeUsage(System.AttributeTargets.Class)]\n    internal sealed class GenerateHelloAttribute : System.Attribute { }\n}\n"));

        var models = context.SyntaxProvider.ForAttributeWithMetadataName(AttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, _) =>
                {
                    var syntax = (ClassDeclarationSyntax)ctx.TargetNode;
                    var symbol = ctx.TargetSymbol;
                    return new HelloModel(
                        symbol.ContainingNamespace.IsGlobalNamespace ? string.Empty : symbol.ContainingNamespace.ToDisplayString(),
                        symbol.Name,
                        syntax.Modifiers.Any(SyntaxKind.PartialKeyword),
                        LocationInfo.From(syntax.Identifier));
                })
            .WithTrackingName(HelloTrackingNames.Models);

        var errors = models.Where(static m => !m.IsPartial).WithTrackingName(HelloTrackingNames.Diagnostics);
        context.RegisterSourceOutput(errors, static (spc, m) =>
            spc.ReportDiagnostic(Diagnostic.Create(MustBePartial, m.Location.ToLocation(), m.Name)));

        context.RegisterSourceOutput(models.Where(static m => m.IsPartial), static (spc, m) =>
        {
            var open = m.Namespace.Length == 0 ? string.Empty : $"namespace {m.Namespace}\n{{\n";
            var close = m.Namespace.Length == 0 ? string.Empty : "}\n";
            spc.AddSource($"{m.Name}.g.cs",
                $"{open}partial class {m.Name}\n{{\n    public string Hello() => \"Hello from {m.Name}\";\n}}\n{close}");
        });
    }
}

public sealed record SymbolModel(string Name, INamedTypeSymbol Symbol);

/// <summary>Bad: the model holds the ISymbol.</summary>
[Generator]
public sealed class SymbolHoldingGenerator : IIncrementalGenerator
{
    public const string TrackingName = "SymbolModels";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => new SymbolModel(((ClassDeclarationSyntax)ctx.Node).Identifier.Text,
                    (INamedTypeSymbol)ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct)!))
            .WithTrackingName(TrackingName);
        context.RegisterSourceOutput(models, static (spc, m) => spc.AddSource($"{m.Name}.Symbol.g.cs", $"// {m.Symbol.ToDisplayString()}\n"));
    }
}

/// <summary>A model without value equality (reference equality only).</summary>
public sealed class BoxModel(string name)
{
    public string Name { get; } = name;

    public override string ToString() => $"BoxModel {{ Name = {Name} }}";
}

/// <summary>Bad: the model is a class without Equals, so every re-run looks like a change.</summary>
[Generator]
public sealed class NonEquatableGenerator : IIncrementalGenerator
{
    public const string TrackingName = "BoxModels";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, _) => new BoxModel(((ClassDeclarationSyntax)ctx.Node).Identifier.Text))
            .WithTrackingName(TrackingName);
        context.RegisterSourceOutput(models, static (spc, m) => spc.AddSource($"{m.Name}.Box.g.cs", $"// {m.Name}\n"));
    }
}

/// <summary>Bad for edits: projects the whole compilation to a value that changes with any new file.</summary>
[Generator]
public sealed class TreeCountGenerator : IIncrementalGenerator
{
    public const string TrackingName = "TreeCount";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var count = context.CompilationProvider.Select(static (c, _) => c.SyntaxTrees.Count()).WithTrackingName(TrackingName);
        context.RegisterSourceOutput(count, static (spc, n) => spc.AddSource("TreeCount.g.cs", $"// trees: {n}\n"));
    }
}

/// <summary>Collects names into an ImmutableArray (reference-equal between runs, equal element-wise).</summary>
[Generator]
public sealed class CollectingGenerator : IIncrementalGenerator
{
    public const string NamesStep = "Names";
    public const string CollectedStep = "CollectedNames";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var names = context.SyntaxProvider.ForAttributeWithMetadataName("System.SerializableAttribute",
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, _) => ctx.TargetSymbol.Name)
            .WithTrackingName(NamesStep);
        var all = names.Collect().Select(static (a, _) => a.Sort(StringComparer.Ordinal)).WithTrackingName(CollectedStep);
        context.RegisterSourceOutput(all, static (spc, a) => spc.AddSource("Names.g.cs", "// " + string.Join(", ", a) + "\n"));
    }
}

/// <summary>Bad: throws while producing output.</summary>
[Generator]
public sealed class ThrowingGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
        => context.RegisterSourceOutput(context.CompilationProvider.Select(static (c, _) => c.AssemblyName),
            static (_, _) => throw new InvalidOperationException("generator bug"));
}
