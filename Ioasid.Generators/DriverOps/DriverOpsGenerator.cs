using System.Text;
using Ioasid.Generators.DriverOps.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Ioasid.Generators.DriverOps;

/// <summary>
/// Builds the driver-ops tables (the kernel's <c>struct iommu_ops</c> and <c>struct iommu_domain_ops</c>) from attributes:
/// every <c>[IommuDriver] partial class</c> gets an instance <c>Ops</c> property and every <c>[IommuDomainOps] partial
/// class</c> a static <c>Ops</c> table, or diagnostics saying why not. Misplaced <c>[IommuOp]</c>/<c>[DomainOp]</c>
/// attributes are reported on their own branches.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class DriverOpsGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var drivers = context.SyntaxProvider
            .ForAttributeWithMetadataName(DriverOpsParser.AttributeMetadataName, OpsTypeChecks.IsTypeCandidate, DriverOpsParser.Parse)
            .WithTrackingName(TrackingNames.DriverOpsResult);
        var driverDiagnostics = drivers
            .SelectMany(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.DriverOpsDiagnostics);
        context.RegisterSourceOutput(driverDiagnostics, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));
        var driverModels = drivers
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TrackingNames.DriverOpsModel);
        context.RegisterSourceOutput(driverModels, static (spc, model) =>
            spc.AddSource(HintName(model.Namespace, model.TypeName, "IommuOps"), SourceText.From(IommuOpsEmitter.Emit(model), Encoding.UTF8)));

        var domains = context.SyntaxProvider
            .ForAttributeWithMetadataName(DomainOpsParser.AttributeMetadataName, OpsTypeChecks.IsTypeCandidate, DomainOpsParser.Parse)
            .WithTrackingName(TrackingNames.DomainOpsResult);
        var domainDiagnostics = domains
            .SelectMany(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.DomainOpsDiagnostics);
        context.RegisterSourceOutput(domainDiagnostics, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));
        var domainModels = domains
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(TrackingNames.DomainOpsModel);
        context.RegisterSourceOutput(domainModels, static (spc, model) =>
            spc.AddSource(HintName(model.Namespace, model.TypeName, "DomainOps"), SourceText.From(DomainOpsEmitter.Emit(model), Encoding.UTF8)));

        var iommuOpMembers = context.SyntaxProvider
            .ForAttributeWithMetadataName(DriverOpsParser.OpAttributeMetadataName, OpMemberParser.IsCandidate, OpMemberParser.ParseIommuOp)
            .WithTrackingName(TrackingNames.IommuOpMemberDiagnostics)
            .SelectMany(static (diagnostics, _) => diagnostics);
        context.RegisterSourceOutput(iommuOpMembers, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));

        var domainOpMembers = context.SyntaxProvider
            .ForAttributeWithMetadataName(DomainOpsParser.OpAttributeMetadataName, OpMemberParser.IsCandidate, OpMemberParser.ParseDomainOp)
            .WithTrackingName(TrackingNames.DomainOpMemberDiagnostics)
            .SelectMany(static (diagnostics, _) => diagnostics);
        context.RegisterSourceOutput(domainOpMembers, static (spc, diagnostic) => spc.ReportDiagnostic(diagnostic.ToDiagnostic()));
    }

    private static string HintName(string? ns, string name, string table) =>
        ns is null ? $"{name}.{table}.g.cs" : $"{ns}.{name}.{table}.g.cs";
}
