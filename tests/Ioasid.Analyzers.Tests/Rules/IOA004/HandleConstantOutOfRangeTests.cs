using Ioasid.Analyzers.CodeFixes.Rules.IOA004;
using Ioasid.Analyzers.Rules.IOA004;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA004;

/// <summary>Constants that the generated handle validation (or Rid.Create) always refuses.</summary>
public sealed class HandleConstantOutOfRangeTests
{
    private static Task Verify(string markup) => Verify<HandleConstantOutOfRangeAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public async Task When_a_constant_is_outside_the_handles_range_Reports()
    {
        var diagnostics = await Verify<HandleConstantOutOfRangeAnalyzer>.DiagnosticsAsync("""
            public static class Setup
            {
                public const uint Big = 1u << 20;

                public static void Run()
                {
                    var a = new Pasid([|0x100000|]);
                    var b = Pasid.From([|Big + 5|]);
                    var c = new IoasidId([|0|]);
                    var d = new DomainHandle([|0|]);
                    var e = IoasidId.From([|0x80000000|]);
                    var f = Rid.Create(0, 3, [|32|], 0);
                    var g = Rid.Create(3, 0, [|8|]);
                    var h = [|default(IoasidId)|];
                    IoasidId i = [|default|];
                }
            }
            """);

        Assert.Equal("The Pasid value is 0x100000, outside the valid range [0, 0xfffff]; the handle's validation refuses it",
            diagnostics[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task When_constants_are_in_range_or_values_are_not_constant_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(uint raw, byte device, Pasid pasid = default, IoasidId id = default)
            {
                var a = new Pasid(0xFFFFF);
                var b = Pasid.NoPasid;
                var c = new Pasid(raw);
                var d = new IoasidId(1);
                var e = Rid.Create(0, 255, 31, 7);
                var f = Rid.Create(0, 0, device, 0);
                var g = new Iova(0);
                var h = default(Pasid);
                var i = new DomainHandle(ulong.MaxValue);
            }
        }
        """);

    [Fact]
    public Task Fix_masks_a_PASID_and_a_device_number_and_uses_the_minimum_id() =>
        Verify<HandleConstantOutOfRangeAnalyzer>.FixAsync<HandleConstantOutOfRangeCodeFix>("""
            public static class Setup
            {
                public static void Run()
                {
                    var a = new Pasid([|0x100005|]);
                    var c = new IoasidId([|0|]);
                    var f = Rid.Create(0, 3, [|33|], 0);
                    var h = [|default(IoasidId)|];
                }
            }
            """, """
            public static class Setup
            {
                public static void Run()
                {
                    var a = new Pasid(0x5);
                    var c = new IoasidId(1);
                    var f = Rid.Create(0, 3, 1, 0);
                    var h = IoasidId.MinValue;
                }
            }
            """);
}
