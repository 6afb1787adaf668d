using System.Collections.Immutable;
using Ioasid.Core.Iommufd;
using Ioasid.TestKit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Ioasid.Analyzers.Tests.Support;

/// <summary>
/// Analyzer and code-fix checks over test sources that compile against the real Ioasid.Abstractions and Ioasid.Core
/// (TestReferences), so every rule is tested against the API it guards. Sources get <see cref="Usings"/> prepended.
/// </summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(string markup)
        => AnalyzerAssert.VerifyAsync(new TAnalyzer(), Source.Usings + markup, [.. Source.References]);

    public static Task NoDiagnosticsAsync(string source)
        => DiagnosticsAsync(source);

    public static Task FixAsync<TCodeFix>(string before, string after, string? title = null)
        where TCodeFix : CodeFixProvider, new()
        => CodeFixAssert.VerifyAsync(new TAnalyzer(), new TCodeFix(), Source.Usings + before, Source.Usings + after, title, [.. Source.References]);
}

internal static class Source
{
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using Ioasid;
        using Ioasid.Core.Iommu;
        using Ioasid.Core.Iommufd;
        using Ioasid.Core.Platform;

        """;

    /// <summary>Ioasid.Abstractions and Ioasid.Core (the Core assembly references Abstractions).</summary>
    public static ImmutableArray<MetadataReference> References { get; } =
        TestReferences.FromAssemblies(typeof(Pasid).Assembly, typeof(IommufdContext).Assembly);
}
