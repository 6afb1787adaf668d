using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.TestKit.Tests;

public sealed class ModelGraphTests
{
    private sealed record Inner(string Name, object? Payload);

    private sealed record Outer(string Name, ImmutableArray<(int Index, Inner Item)> Items, Dictionary<string, object> Extra);

    private class Node
    {
        public Node? Next;
    }

    private sealed class DerivedNode : Node
    {
    }

    private sealed class BaseHolder
    {
        private readonly object _hidden;

        public BaseHolder(object hidden) => _hidden = hidden;

        public override string ToString() => _hidden.ToString()!;
    }

    [Fact]
    public void Plain_values_have_no_findings()
    {
        var model = new Outer("m", [(1, new Inner("a", 42)), (2, new Inner("b", "text"))], new() { ["k"] = new[] { 1, 2 } });

        Assert.Empty(ModelGraph.FindForbidden(model, "model"));
        Assert.Empty(ModelGraph.FindForbidden(default(ImmutableArray<string>), "model"));
        Assert.Empty(ModelGraph.FindForbidden(null, "model"));
    }

    [Fact]
    public void Finds_Roslyn_objects_through_tuples_collections_dictionaries_and_private_fields()
    {
        var tree = CSharpSyntaxTree.ParseText("class C { }");
        var compilation = TestCompilation.Create("class D { }");
        var symbol = compilation.GetTypeByMetadataName("D")!;
        var model = new Outer("m",
            [(1, new Inner("a", tree.GetRoot())), (2, new Inner("b", new BaseHolder(symbol)))],
            new() { ["loc"] = tree.GetRoot().GetLocation(), ["tree"] = tree, ["comp"] = compilation });

        var findings = ModelGraph.FindForbidden(model, "output[0]");

        Assert.Equal(
            [
                "output[0].Items[0].Item2.Payload is Microsoft.CodeAnalysis.SyntaxNode (CompilationUnitSyntax)",
                "output[0].Items[1].Item2.Payload._hidden is Microsoft.CodeAnalysis.ISymbol (NonErrorNamedTypeSymbol)",
                "output[0].Extra[\"loc\"] is Microsoft.CodeAnalysis.Location (SourceLocation)",
                "output[0].Extra[\"tree\"] is Microsoft.CodeAnalysis.SyntaxTree (ParsedSyntaxTree)",
                "output[0].Extra[\"comp\"] is Microsoft.CodeAnalysis.Compilation (CSharpCompilation)",
            ],
            findings.ToArray());
    }

    [Fact]
    public void Finds_a_semantic_model_and_handles_cycles_and_inherited_fields()
    {
        var compilation = TestCompilation.Create("class D { }");
        var node = new DerivedNode();
        node.Next = node;   // cycle

        Assert.Empty(ModelGraph.FindForbidden(node, "n"));
        var shared = compilation.SyntaxTrees[0];
        Assert.Equal(["pair.Item1 is Microsoft.CodeAnalysis.SyntaxTree (ParsedSyntaxTree)"],
            ModelGraph.FindForbidden((shared, new[] { shared }), "pair").ToArray());   // one finding per object
        Assert.Equal(["m.Payload is Microsoft.CodeAnalysis.SemanticModel (SyntaxTreeSemanticModel)"],
            ModelGraph.FindForbidden(new Inner("x", compilation.GetSemanticModel(compilation.SyntaxTrees[0])), "m").ToArray());
    }
}
