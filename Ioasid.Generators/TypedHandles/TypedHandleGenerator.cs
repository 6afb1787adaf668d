using System.Text;
using Ioasid.Generators.TypedHandles.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.Generators.TypedHandles;

/// <summary>
/// Completes every <c>[TypedHandle&lt;T&gt;] partial struct</c>: find the attribute (syntax predicate) →
/// build a value-only model with its diagnostics → emit the members, or report why not.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TypedHandleGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var results = context.SyntaxProvider
            .ForAttributeWithMetadataName(TypedHandleParser.AttributeMetadataName, TypedHandleParser.IsCandidate, TypedHandleParser.Parse)
            .WithTrackingName(TrackingNames.TypedHandleResult);

        var diagnostics = results
            .SelectMany(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.TypedHandleDiagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));

        var models = results
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TrackingNames.TypedHandleModel);
        context.RegisterSourceOutput(models, static (spc, model) =>
            spc.AddSource(HintName(model), SourceText.From(TypedHandleEmitter.Emit(model), Encoding.UTF8)));
    }

    private static string HintName(TypedHandleModel model) =>
        model.Namespace is null ? $"{model.Name}.g.cs" : $"{model.Namespace}.{model.Name}.g.cs";
}
