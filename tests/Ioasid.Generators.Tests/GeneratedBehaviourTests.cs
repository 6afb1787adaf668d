using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Ioasid.Generators.Tests.Support;
using Ioasid.Generators.TypedHandles;
using Ioasid.TestKit;

namespace Ioasid.Generators.Tests;

/// <summary>
/// Runs the generated code: synthetic handles are generated, compiled and emitted in memory, loaded, and driven by
/// reflection (static members) and through the interfaces the generated code implements. This covers what the
/// runtime tests of the real handles (tests/Ioasid.Abstractions.Tests) cannot: byte and ushort handles, a range
/// bounded on both sides of a small type, hex on a narrow type, a custom text form with a range, the global namespace
/// and a non-readonly struct.
/// </summary>
public sealed class GeneratedBehaviourTests
{
    private const string Handles = """
        using System;
        using System.Globalization;
        using Ioasid;

        namespace Behave;

        /// <summary>A byte handle in [3, 9].</summary>
        [TypedHandle<byte>(Min = 3, Max = 9)]
        [HandleConstant("Low", 3)]
        [HandleConstant("High", 9)]
        public readonly partial struct Small;

        /// <summary>A 12-bit register number, written in hex.</summary>
        [TypedHandle<ushort>(Max = 0xFFF, Format = HandleFormat.Hex)]
        public readonly partial struct Reg;

        /// <summary>Any 64-bit value.</summary>
        [TypedHandle<ulong>]
        public readonly partial struct Wide;

        /// <summary>Written as <c>t-</c> and a decimal number; valid from 1 to 100.</summary>
        [TypedHandle<uint>(Min = 1, Max = 100, Format = HandleFormat.Custom)]
        public readonly partial struct Tagged
        {
            private static partial bool TryFormatValue(uint value, Span<char> destination, out int charsWritten) =>
                destination.TryWrite(CultureInfo.InvariantCulture, $"t-{value}", out charsWritten);

            // Deliberately accepts any uint: the generated TryParse must still apply the range.
            private static partial bool TryParseValue(ReadOnlySpan<char> s, out uint value)
            {
                value = 0;
                return s.StartsWith("t-") && uint.TryParse(s.Slice(2), NumberStyles.None, CultureInfo.InvariantCulture, out value);
            }
        }

        /// <summary>Declared without readonly; zero to nine are not valid.</summary>
        [TypedHandle<ushort>(Min = 10)]
        public partial struct Mutable;
        """;

    private const string GlobalHandle = """
        /// <summary>A handle in the global namespace.</summary>
        [Ioasid.TypedHandle<byte>]
        public readonly partial struct Loose;
        """;

    private static readonly Lazy<Assembly> Loaded = new(CompileAndLoad);

    [Fact]
    public void Byte_handle_from_3_to_9_accepts_exactly_its_range()
    {
        var small = Handle("Behave.Small");

        Assert.Equal((byte)3, small.Constant("MinRawValue"));
        Assert.Equal((byte)9, small.Constant("MaxRawValue"));
        Assert.Equal([false, true, true, false], new byte[] { 2, 3, 9, 10 }.Select(v => small.IsValid(v)));
        Assert.Equal([false, true, true, false], new[] { "2", "3", "9", "10" }.Select(s => small.TryParse(s, out _)));
        Assert.Equal([false, true, true, false], new byte[] { 2, 3, 9, 10 }.Select(v => small.TryFrom(v, out _)));

        Assert.True(small.TryParse("9", out var nine));
        Assert.Equal("9", nine!.ToString());
        Assert.Equal((byte)9, small.Raw(nine));
        Assert.Equal(small.Static("High"), nine);
        Assert.Equal(small.Static("MaxValue"), nine);
        Assert.Equal(small.Static("Low"), small.Static("MinValue"));
        Assert.Equal("3", small.Static("MinValue").ToString());

        foreach (var raw in new byte[] { 2, 10, 0, 255 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => small.New(raw));
            Assert.Equal("value", error.ParamName);
            Assert.Equal(raw, error.ActualValue);
            Assert.StartsWith("Small must lie in [0x3, 0x9].", error.Message, StringComparison.Ordinal);
        }

        var format = Assert.Throws<FormatException>(() => small.Parse("10"));
        Assert.Equal("'10' is not a valid Small.", format.Message);
    }

    [Theory]
    [InlineData("03", true)]          // leading zeros are digits
    [InlineData("+3", false)]         // NumberStyles.None: no sign,
    [InlineData(" 3", false)]         // no white space,
    [InlineData("3 ", false)]
    [InlineData("0x3", false)]        // no hex on a decimal handle,
    [InlineData("256", false)]        // and nothing that overflows the byte
    [InlineData("", false)]
    public void Decimal_byte_handle_parses_plain_digits_only(string text, bool valid)
    {
        Assert.Equal(valid, Handle("Behave.Small").TryParse(text, out _));
    }

    [Fact]
    public void Byte_handle_orders_and_compares_by_raw_value()
    {
        var small = Handle("Behave.Small");
        var (four, five, alsoFive) = (small.New((byte)4), small.New((byte)5), small.New((byte)5));

        Assert.True(small.Generic<bool>(nameof(Less), four, five));
        Assert.False(small.Generic<bool>(nameof(Less), five, alsoFive));
        Assert.True(small.Generic<bool>(nameof(Same), five, alsoFive));
        Assert.Equal(five.GetHashCode(), alsoFive.GetHashCode());
        Assert.False(five.Equals((byte)5));
        Assert.Equal(-1, ((IComparable)four).CompareTo(five));
        Assert.Equal(1, ((IComparable)four).CompareTo(null));
        Assert.Throws<ArgumentException>(() => ((IComparable)four).CompareTo((byte)4));
    }

    [Fact]
    public void Hex_ushort_handle_writes_lower_case_and_reads_either_case_or_decimal()
    {
        var reg = Handle("Behave.Reg");
        var abc = reg.New((ushort)0xABC);

        Assert.Equal("0xabc", abc.ToString());
        Assert.Equal("0x0", reg.New((ushort)0).ToString());
        Assert.Equal("0xfff", reg.Static("MaxValue").ToString());
        Assert.Equal(abc, reg.Parse("0xABC"));
        Assert.Equal(abc, reg.Parse("0Xabc"));
        Assert.Equal(abc, reg.Parse("2748"));
        Assert.Equal(abc, reg.Generic<object>(nameof(ParseSpan), "0xabc"));

        foreach (var bad in new[] { "0x1000", "4096", "0x", "0x-1", "-1", "0x 1", "x1", "0xabc ", "0x10000" })
        {
            Assert.False(reg.TryParse(bad, out _), bad);
        }
    }

    [Fact]
    public void Formatting_reports_a_short_destination_instead_of_writing_part_of_the_text()
    {
        var abc = (ISpanFormattable)Handle("Behave.Reg").New((ushort)0xABC);

        Assert.True(abc.TryFormat(new char[5], out var written, default, null));
        Assert.Equal(5, written);
        foreach (var length in new[] { 4, 2, 0 })
        {
            Assert.False(abc.TryFormat(new char[length], out written, default, null));
            Assert.Equal(0, written);
        }

        var utf8 = new byte[5];
        Assert.True(((IUtf8SpanFormattable)abc).TryFormat(utf8, out var bytes, default, null));
        Assert.Equal("0xabc", Encoding.UTF8.GetString(utf8, 0, bytes));
        Assert.False(((IUtf8SpanFormattable)abc).TryFormat(new byte[4], out bytes, default, null));
        Assert.Equal(0, bytes);

        // One text form: the format string and the provider are ignored.
        Assert.Equal("0xabc", abc.ToString("D", CultureInfo.GetCultureInfo("fr-FR")));
        Assert.Equal("0xabc", $"{abc:N2}");
    }

    [Fact]
    public void Full_range_ulong_handle_accepts_every_value()
    {
        var wide = Handle("Behave.Wide");

        Assert.True(wide.IsValid(0ul));
        Assert.True(wide.IsValid(ulong.MaxValue));
        var max = wide.Parse("18446744073709551615");
        Assert.Equal(ulong.MaxValue, wide.Raw(max));
        Assert.Equal("18446744073709551615", max.ToString());
        Assert.Equal(wide.Static("MaxValue"), max);
        Assert.False(wide.TryParse("18446744073709551616", out _));
    }

    [Fact]
    public void Custom_text_form_is_range_checked_after_the_handwritten_parser()
    {
        var tagged = Handle("Behave.Tagged");

        Assert.Equal("t-5", tagged.New(5u).ToString());
        Assert.Equal(tagged.New(100u), tagged.Parse("t-100"));
        Assert.True(tagged.TryParse("t-1", out var one));
        Assert.Equal(1u, tagged.Raw(one!));

        // TryParseValue accepts these; the generated TryParse must not.
        Assert.False(tagged.TryParse("t-0", out _));
        Assert.False(tagged.TryParse("t-101", out _));
        Assert.False(tagged.TryParse("5", out _));

        var utf8 = new byte[8];
        Assert.True(((IUtf8SpanFormattable)tagged.New(42u)).TryFormat(utf8, out var bytes, default, null));
        Assert.Equal("t-42", Encoding.UTF8.GetString(utf8, 0, bytes));
        Assert.False(((ISpanFormattable)tagged.New(42u)).TryFormat(new char[3], out _, default, null));
    }

    [Fact]
    public void Non_readonly_handle_has_a_lower_bound_and_is_not_marked_readonly()
    {
        var mutable = Handle("Behave.Mutable");

        Assert.False(mutable.IsValid((ushort)9));
        Assert.True(mutable.IsValid((ushort)10));
        Assert.True(mutable.IsValid(ushort.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => mutable.New((ushort)9));
        Assert.Equal("65535", mutable.Parse("65535").ToString());

        Assert.Null(mutable.Type.GetCustomAttribute<IsReadOnlyAttribute>());
        Assert.NotNull(Handle("Behave.Small").Type.GetCustomAttribute<IsReadOnlyAttribute>());
    }

    [Fact]
    public void Global_namespace_handle_works()
    {
        var loose = Handle("Loose");

        Assert.Null(loose.Type.Namespace);
        Assert.Equal("255", loose.Parse("255").ToString());
        Assert.True(loose.IsValid((byte)0));
    }

    private static bool Less<T>(T left, T right) where T : IComparisonOperators<T, T, bool> => left < right;

    private static bool Same<T>(T left, T right) where T : IEqualityOperators<T, T, bool> => left == right && !(left != right);

    private static T ParseSpan<T>(string text) where T : ISpanParsable<T> => T.Parse(text.AsSpan(), null);

    private static HandleType Handle(string name) => new(Loaded.Value.GetType(name, throwOnError: true)!);

    private static Assembly CompileAndLoad()
    {
        var result = GeneratorHarness.Run([new TypedHandleGenerator()], [Handles, GlobalHandle], Gen.Documented);
        Gen.AssertClean(result);

        using var image = new MemoryStream();
        var emit = result.OutputCompilation.Emit(image);
        Assert.True(emit.Success, string.Join("\n", DiagnosticFormat.FormatAll(emit.Diagnostics)));
        return Assembly.Load(image.ToArray());
    }

    /// <summary>Reflection over one generated handle type; exceptions thrown by the handle surface unwrapped.</summary>
    private sealed class HandleType(Type type)
    {
        private const BindingFlags Unwrapped = BindingFlags.DoNotWrapExceptions;

        public Type Type => type;

        private Type Underlying => type.GetProperty("Value")!.PropertyType;

        public object New(object raw) => type.GetConstructor([Underlying])!.Invoke(Unwrapped, null, [raw], null);

        public object Raw(object handle) => type.GetProperty("Value")!.GetValue(handle)!;

        public bool IsValid(object raw) => (bool)Call("IsValid", [Underlying], raw)!;

        public object Parse(string text) => Call("Parse", [typeof(string)], text)!;

        public bool TryParse(string? text, out object? handle) => TryOut("TryParse", typeof(string), text, out handle);

        public bool TryFrom(object raw, out object? handle) => TryOut("TryFrom", Underlying, raw, out handle);

        /// <summary>A static property (MinValue) or static readonly field ([HandleConstant]).</summary>
        public object Static(string name) =>
            type.GetProperty(name, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
            ?? type.GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

        public object Constant(string name)
        {
            var field = type.GetField(name, BindingFlags.Public | BindingFlags.Static)!;
            Assert.True(field.IsLiteral, $"{name} is a const");
            return field.GetRawConstantValue()!;
        }

        public T Generic<T>(string helper, params object?[] args) =>
            (T)typeof(GeneratedBehaviourTests).GetMethod(helper, BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type).Invoke(null, Unwrapped, null, args, null)!;

        private object? Call(string name, Type[] parameters, params object?[] args) =>
            type.GetMethod(name, BindingFlags.Public | BindingFlags.Static, parameters)!.Invoke(null, Unwrapped, null, args, null);

        private bool TryOut(string name, Type input, object? value, out object? handle)
        {
            object?[] args = [value, null];
            var ok = (bool)type.GetMethod(name, BindingFlags.Public | BindingFlags.Static, [input, type.MakeByRefType()])!
                .Invoke(null, Unwrapped, null, args, null)!;
            handle = args[1];
            return ok;
        }
    }
}
