using Ioasid.TestKit.Tests.Fixtures;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace Ioasid.TestKit.Tests;

public sealed class GeneratorHarnessTests
{
    private const string HelloSource = """
        namespace App
        {
            [TestKitGen.GenerateHello]
            public partial class Greeter { }

            public class Plain { }
        }
        """;

    private static readonly GeneratorHarnessOptions HelloOptions = new()
    {
        TrackingNames = GeneratorHarness.TrackingNamesOf(typeof(HelloTrackingNames)),
    };

    [Fact]
    public void TrackingNamesOf_reads_public_const_strings()
    {
        Assert.Equal(["HelloDiagnostics", "HelloModels"], GeneratorHarness.TrackingNamesOf(typeof(HelloTrackingNames)).ToArray());
    }

    [Fact]
    public void Well_behaved_generator_passes_all_caching_checks_and_its_output_compiles()
    {
        var result = GeneratorHarness.Run(new HelloGenerator(), HelloSource, HelloOptions);

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.OutputDiagnostics);
        Assert.Equal(["GenerateHelloAttribute.g.cs", "Greeter.g.cs"], result.GeneratedSources.Select(s => s.HintName).ToArray());
        Assert.Contains("public string Hello() => \"Hello from Greeter\";", result.Source("Greeter.g.cs"), StringComparison.Ordinal);
        Assert.NotNull(result.OutputCompilation.GetTypeByMetadataName("App.Greeter")!.GetMembers("Hello").SingleOrDefault());
        Assert.Equal("Input.cs", result.InputCompilation.SyntaxTrees.Single().FilePath);
    }

    [Fact]
    public void Generated_sources_snapshot_uses_the_HintName_format()
    {
        var result = GeneratorHarness.Run(new HelloGenerator(), HelloSource, HelloOptions);

        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Generator_diagnostics_are_formatted_like_Roslyn()
    {
        var result = GeneratorHarness.Run(new HelloGenerator(), "[TestKitGen.GenerateHello] public class Loud { }", HelloOptions);

        Assert.Equal(["Input.cs(1,41): error TKG001: Class 'Loud' must be declared partial to use [GenerateHello]"],
            result.FormattedGeneratorDiagnostics.ToArray());
        Assert.Equal(["GenerateHelloAttribute.g.cs"], result.GeneratedSources.Select(s => s.HintName).ToArray());
    }

    [Fact]
    public void Output_diagnostics_show_when_generated_code_does_not_compile()
    {
        // Greeter already has Hello(), so the generated partial duplicates it.
        var result = GeneratorHarness.Run(new HelloGenerator(),
            "[TestKitGen.GenerateHello] public partial class Greeter { public string Hello() => \"\"; }", HelloOptions);

        var error = Assert.Single(result.OutputErrors);
        Assert.Equal("CS0111", error.Id);
        Assert.StartsWith("Greeter.g.cs", Path.GetFileName(error.Location.SourceTree!.FilePath), StringComparison.Ordinal);
        Assert.Contains("error CS0111", Assert.Single(result.FormattedOutputDiagnostics), StringComparison.Ordinal);
    }

    [Fact]
    public void Several_sources_are_named_Input0_Input1()
    {
        var result = GeneratorHarness.Run([new HelloGenerator()],
            ["namespace A { [TestKitGen.GenerateHello] partial class One { } }", "namespace B { [TestKitGen.GenerateHello] class Two { } }"],
            HelloOptions);

        Assert.Equal(["Input0.cs", "Input1.cs"], result.InputCompilation.SyntaxTrees.Select(t => t.FilePath).ToArray());
        Assert.StartsWith("Input1.cs(1,", Assert.Single(result.FormattedGeneratorDiagnostics), StringComparison.Ordinal);
    }

    [Fact]
    public void Model_holding_an_ISymbol_fails_naming_the_step_and_member()
    {
        var error = Assert.Throws<FailException>(() => GeneratorHarness.Run(new SymbolHoldingGenerator(), "class A { }",
            new GeneratorHarnessOptions { TrackingNames = [SymbolHoldingGenerator.TrackingName] }));

        Assert.Contains("Step 'SymbolModels' (SymbolHoldingGenerator) holds a Roslyn object that must not cross pipeline stages: " +
                        "output[0].Symbol is Microsoft.CodeAnalysis.ISymbol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_without_value_equality_fails_the_caching_check()
    {
        var error = Assert.Throws<FailException>(() => GeneratorHarness.Run(new NonEquatableGenerator(), "class A { }",
            new GeneratorHarnessOptions { TrackingNames = [NonEquatableGenerator.TrackingName] }));

        Assert.Contains("Step 'BoxModels' output[0] is not equal between runs", error.Message, StringComparison.Ordinal);
        Assert.Contains("BoxModel { Name = A } vs BoxModel { Name = A }", error.Message, StringComparison.Ordinal);
        Assert.Contains("Step 'BoxModels' output[0] was Modified on the second run", error.Message, StringComparison.Ordinal);
        Assert.Contains("Output step 'SourceOutput' (NonEquatableGenerator) output[0] was Modified", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generator_exception_fails_the_run()
    {
        var error = Assert.Throws<FailException>(() => GeneratorHarness.Run(new ThrowingGenerator(), "class A { }"));

        Assert.Contains("Generator ThrowingGenerator threw System.InvalidOperationException: generator bug", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unrelated_edit_check_catches_steps_that_depend_on_the_whole_compilation()
    {
        var options = new GeneratorHarnessOptions { TrackingNames = [TreeCountGenerator.TrackingName] };

        var error = Assert.Throws<FailException>(() => GeneratorHarness.Run(new TreeCountGenerator(), "class A { }", options));
        var relaxed = GeneratorHarness.Run(new TreeCountGenerator(), "class A { }", options with { CheckUnrelatedEdit = false });

        Assert.Contains("Step 'TreeCount' (TreeCountGenerator) output[0] was Modified after adding an unrelated file ('class UnrelatedType {}')",
            error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second run", error.Message, StringComparison.Ordinal);   // the clone run alone is fine
        Assert.Equal("// trees: 1\n", relaxed.Source("TreeCount.g.cs"));
    }

    [Fact]
    public void Collected_arrays_are_compared_element_wise()
    {
        var result = GeneratorHarness.Run(new CollectingGenerator(),
            "[System.Serializable] class B { } [System.Serializable] class A { }",
            new GeneratorHarnessOptions { TrackingNames = [CollectingGenerator.NamesStep, CollectingGenerator.CollectedStep] });

        Assert.Equal("// A, B\n", result.Source("Names.g.cs"));
    }

    [Fact]
    public void Tracking_names_that_were_never_recorded_fail()
    {
        // HelloDiagnostics has no output for valid input, so it is not recorded; that alone is fine by default.
        GeneratorHarness.Run(new HelloGenerator(), HelloSource, HelloOptions);

        var none = Assert.Throws<FailException>(() => GeneratorHarness.Run(new HelloGenerator(), HelloSource,
            new GeneratorHarnessOptions { TrackingNames = ["Typo"] }));
        var strict = Assert.Throws<FailException>(() => GeneratorHarness.Run(new HelloGenerator(), HelloSource,
            HelloOptions with { RequireAllTrackingNames = true }));

        Assert.Contains("Tracking name 'Typo' was not recorded by any generator", none.Message, StringComparison.Ordinal);
        Assert.Contains("Recorded steps: ", none.Message, StringComparison.Ordinal);
        Assert.Contains("HelloModels", none.Message, StringComparison.Ordinal);
        Assert.Contains("Tracking name 'HelloDiagnostics' was not recorded", strict.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'HelloModels' was not recorded", strict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnostics_branch_is_checked_when_the_input_reaches_it()
    {
        var result = GeneratorHarness.Run(new HelloGenerator(), "[TestKitGen.GenerateHello] public class Loud { }",
            HelloOptions with { RequireAllTrackingNames = true });

        Assert.Single(result.GeneratorDiagnostics);
    }

    [Fact]
    public void Several_generators_run_together_and_sources_are_ordered_by_hint_name()
    {
        var result = GeneratorHarness.Run([new TreeCountGenerator(), new HelloGenerator()], [HelloSource],
            HelloOptions with { CheckUnrelatedEdit = false });

        Assert.Equal(["GenerateHelloAttribute.g.cs", "Greeter.g.cs", "TreeCount.g.cs"], result.GeneratedSources.Select(s => s.HintName).ToArray());
        Assert.StartsWith("//HintName: GenerateHelloAttribute.g.cs\nnamespace TestKitGen\n", result.ToSnapshot(), StringComparison.Ordinal);
        // trees: Input.cs plus HelloGenerator's post-initialization attribute file
        Assert.Contains("\n//HintName: TreeCount.g.cs\n// trees: 2\n", result.ToSnapshot(), StringComparison.Ordinal);
    }

    [Fact]
    public void Source_fails_for_an_unknown_hint_name()
    {
        var result = GeneratorHarness.Run(new HelloGenerator(), HelloSource, HelloOptions);

        var error = Assert.Throws<FailException>(() => result.Source("Missing.g.cs"));

        Assert.Contains("Generated: GenerateHelloAttribute.g.cs, Greeter.g.cs", error.Message, StringComparison.Ordinal);
    }
}
