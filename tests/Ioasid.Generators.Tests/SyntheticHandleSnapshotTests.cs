using Ioasid.Generators.Tests.Support;
using Ioasid.TestKit;

namespace Ioasid.Generators.Tests;

/// <summary>
/// Small handles that each exercise one branch of the emitters: every underlying type (with every shape of range
/// check), every <c>HandleFormat</c>, the global namespace, a non-readonly struct and a constant whose summary needs
/// XML escaping. Each must compile with no warning, documentation diagnosed, and match its snapshot.
/// </summary>
public sealed class SyntheticHandleSnapshotTests
{
    [Fact]
    public void Byte_with_lower_and_upper_bound()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>A byte handle in [3, 9].</summary>
            [TypedHandle<byte>(Min = 3, Max = 9)]
            public readonly partial struct SmallId;
            """);

        Gen.AssertClean(result);
        Assert.Equal(["Demo.SmallId.g.cs"], Gen.HintNames(result));
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void UShort_with_upper_bound_only()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>A 12-bit handle.</summary>
            [TypedHandle<ushort>(Max = 0xFFF)]
            public readonly partial struct VlanId;
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void UInt_with_lower_bound_only()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>A handle where zero is not valid.</summary>
            [TypedHandle<uint>(Min = 1)]
            public readonly partial struct ObjectId;
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void ULong_with_full_range()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>Any 64-bit value.</summary>
            [TypedHandle<ulong>]
            public readonly partial struct Cookie;
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Format_decimal_explicit()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>Written in decimal.</summary>
            [TypedHandle<uint>(Format = HandleFormat.Decimal)]
            public readonly partial struct Counter;
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Format_hex()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>Written in hex.</summary>
            [TypedHandle<ushort>(Format = HandleFormat.Hex)]
            public readonly partial struct Port;
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Format_custom()
    {
        var result = Gen.Run("""
            using System;
            using Ioasid;

            namespace Demo;

            /// <summary>Written as <c>q</c> and a decimal number.</summary>
            [TypedHandle<byte>(Format = HandleFormat.Custom)]
            public readonly partial struct QueueId
            {
                private static partial bool TryFormatValue(byte value, Span<char> destination, out int charsWritten) =>
                    destination.TryWrite($"q{value}", out charsWritten);

                private static partial bool TryParseValue(ReadOnlySpan<char> s, out byte value)
                {
                    value = 0;
                    return s.Length > 1 && s[0] == 'q' && byte.TryParse(s.Slice(1), out value);
                }
            }
            """);

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Global_namespace()
    {
        var result = Gen.Run("""
            /// <summary>A handle outside any namespace.</summary>
            [Ioasid.TypedHandle<uint>]
            public readonly partial struct GlobalId;
            """);

        Gen.AssertClean(result);
        Assert.Equal(["GlobalId.g.cs"], Gen.HintNames(result));
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Non_readonly_struct()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>Declared without readonly; the generated part must not add it.</summary>
            [TypedHandle<uint>]
            public partial struct MutableId;
            """);

        Gen.AssertClean(result);
        Assert.Contains("\npartial struct MutableId :", result.Source("Demo.MutableId.g.cs"), StringComparison.Ordinal);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Constants_with_escaped_and_default_summaries()
    {
        var result = Gen.Run("""
            using Ioasid;

            namespace Demo;

            /// <summary>A handle with named constants.</summary>
            [TypedHandle<uint>(Max = 100)]
            [HandleConstant("None", 0, Summary = "No queue: value < 1 & not > 0.")]
            [HandleConstant("Last", 100)]
            public readonly partial struct Slot;
            """);

        Gen.AssertClean(result);
        var source = result.Source("Demo.Slot.g.cs");
        Assert.Contains("/// <summary>No queue: value &lt; 1 &amp; not &gt; 0.</summary>", source, StringComparison.Ordinal);
        Assert.Contains("/// <summary>The Slot with raw value 100.</summary>", source, StringComparison.Ordinal);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }

    [Fact]
    public void Constant_summary_spanning_lines()
    {
        // Before the fix the second line of such a summary landed outside the doc comment, as code.
        var result = Gen.Run(""""
            using Ioasid;

            namespace Demo;

            /// <summary>A handle whose constants have multi-line summaries.</summary>
            [TypedHandle<byte>]
            [HandleConstant("One", 1, Summary = "First line,\nsecond line & last.")]
            [HandleConstant("Two", 2, Summary = """
                A raw string
                  over two lines.
                """)]
            [HandleConstant("Three", 3, Summary = "Windows\r\nand Unicode\u2028line breaks.")]
            public readonly partial struct Lines;
            """");

        Gen.AssertClean(result);
        Snapshot.Verify(result.ToSnapshot(), "cs");
    }
}
