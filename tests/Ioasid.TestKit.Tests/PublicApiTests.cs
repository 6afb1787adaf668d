using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.TestKit.Tests;

public sealed class PublicApiTests(PublicApiTests.SampleAssembly sample) : IClassFixture<PublicApiTests.SampleAssembly>
{
    /// <summary>The sample assembly, emitted once for the tests that read it.</summary>
    public sealed class SampleAssembly : IDisposable
    {
        private readonly TempDirectory _temp = new();

        public SampleAssembly() => Path = Emit(_temp, "Sample", SampleSource);

        public string Path { get; }

        public void Dispose() => _temp.Dispose();
    }

    private const string SampleSource = """
        #nullable enable
        using System;
        using System.Collections.Generic;

        namespace Sample
        {
            public interface IShape
            {
                double Area { get; }
                string Describe(string? prefix = null);
            }

            public interface IParse<TSelf> where TSelf : IParse<TSelf>
            {
                static abstract TSelf Parse(string text);
            }

            public class Options
            {
                public required string Name { get; init; }
                public const decimal Rate = 0.25m;
            }

            public abstract class Shape : IShape, IComparable<Shape>
            {
                protected Shape(string name) { Name = name; }
                public string Name { get; }
                public abstract double Area { get; }
                public virtual string Describe(string? prefix = null) => prefix + Name;
                protected virtual void OnChanged() { Changed?.Invoke(this, EventArgs.Empty); }
                private protected void Hidden() { }
                protected internal int Counter { get; protected set; }
                internal void AlsoHidden() { }
                public event EventHandler? Changed;
                public int CompareTo(Shape? other) => 0;
                protected class Nested { public int Value; }
            }

            public sealed class Circle : Shape
            {
                public const double Tau = 6.28;
                public static readonly Circle Unit = new(1);
                public Circle(double radius) : base("circle") { Radius = radius; }
                public double Radius { get; init; }
                public override double Area => Tau / 2 * Radius * Radius;
                protected override void OnChanged() { }
                public string? Label { get; private set; }
                public T Convert<T>(Func<Circle, T> map) where T : class, new() => map(this);
                public static Circle operator +(Circle a, Circle b) => new(a.Radius + b.Radius);
            }

            public readonly struct Point : IEquatable<Point>
            {
                public Point(int x, int y) { X = x; Y = y; }
                public int X { get; }
                public int Y { get; }
                public bool Equals(Point other) => X == other.X && Y == other.Y;
                public override bool Equals(object? obj) => obj is Point p && Equals(p);
                public override int GetHashCode() => X ^ Y;
                public int this[int index] => index == 0 ? X : Y;
            }

            [Flags]
            public enum Access : byte { None = 0, Read = 1, Write = 2, ReadWrite = Read | Write }

            public enum Color { Red, Green = 5 }

            public record Person(string Name, int Age)
            {
                public string? Nickname { get; set; }
            }

            public readonly record struct Id(int Value);

            public delegate TResult Mapper<in T, out TResult>(T input) where T : notnull;

            public static class Extensions
            {
                [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
                public static string? Trimmed(this string? text, [System.Runtime.CompilerServices.CallerMemberName] string caller = "") => text?.Trim();
                public static int Twice(this int value) => value * 2;
                [Obsolete("Use Twice")]
                public static int Double(this int value) => value * 2;
            }

            public class Registry<TKey, TValue> : Dictionary<TKey, TValue>, IDisposable where TKey : notnull where TValue : unmanaged
            {
                void IDisposable.Dispose() { }
                protected virtual bool TryAdd2(TKey key, TValue value) => TryAdd(key, value);
            }

            internal class Internal { public void M() { } }

            [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
            public sealed class MarkerAttribute : Attribute { public string? Note { get; set; } }
        }
        """;

    private const string ExpectedSampleApi = """
        [System.Flags] public enum Sample.Access : byte
        Sample.Access.None = 0
        Sample.Access.Read = 1
        Sample.Access.ReadWrite = Sample.Access.Read | Sample.Access.Write
        Sample.Access.Write = 2
        public sealed class Sample.Circle : Sample.Shape
        public Sample.Circle.Circle(double radius)
        public override double Sample.Circle.Area { get; }
        public T Sample.Circle.Convert<T>(System.Func<Sample.Circle, T> map) where T : class, new()
        public string? Sample.Circle.Label { get; }
        public double Sample.Circle.Radius { get; init; }
        public const double Sample.Circle.Tau = 6.28
        public static readonly Sample.Circle Sample.Circle.Unit
        public static Sample.Circle Sample.Circle.operator +(Sample.Circle a, Sample.Circle b)
        public enum Sample.Color
        Sample.Color.Green = 5
        Sample.Color.Red = 0
        public static class Sample.Extensions
        [System.Obsolete("Use Twice")] public static int Sample.Extensions.Double(this int value)
        [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull("text")] public static string? Sample.Extensions.Trimmed(this string? text, [System.Runtime.CompilerServices.CallerMemberName] string caller = "")
        public static int Sample.Extensions.Twice(this int value)
        public interface Sample.IParse<TSelf> where TSelf : Sample.IParse<TSelf>
        static abstract TSelf Sample.IParse<TSelf>.Parse(string text)
        public interface Sample.IShape
        double Sample.IShape.Area { get; }
        string Sample.IShape.Describe(string? prefix = null)
        public readonly record struct Sample.Id : System.IEquatable<Sample.Id>
        public Sample.Id.Id(int Value)
        public int Sample.Id.Value { get; init; }
        public delegate TResult Sample.Mapper<in T, out TResult>(T input) where T : notnull
        [System.AttributeUsage(System.AttributeTargets.Class | System.AttributeTargets.Struct, Inherited = false)] public sealed class Sample.MarkerAttribute : System.Attribute
        public Sample.MarkerAttribute.MarkerAttribute()
        public string? Sample.MarkerAttribute.Note { get; set; }
        public class Sample.Options
        public Sample.Options.Options()
        public required string Sample.Options.Name { get; init; }
        public const decimal Sample.Options.Rate = 0.25
        public record Sample.Person : System.IEquatable<Sample.Person>
        public Sample.Person.Person(string Name, int Age)
        public int Sample.Person.Age { get; init; }
        public string Sample.Person.Name { get; init; }
        public string? Sample.Person.Nickname { get; set; }
        public readonly struct Sample.Point : System.IEquatable<Sample.Point>
        public Sample.Point.Point(int x, int y)
        public bool Sample.Point.Equals(Sample.Point other)
        public override bool Sample.Point.Equals(object? obj)
        public override int Sample.Point.GetHashCode()
        public int Sample.Point.X { get; }
        public int Sample.Point.Y { get; }
        public int Sample.Point.this[int index] { get; }
        public class Sample.Registry<TKey, TValue> : System.Collections.Generic.Dictionary<TKey, TValue>, System.IDisposable where TKey : notnull where TValue : unmanaged
        public Sample.Registry<TKey, TValue>.Registry()
        void Sample.Registry<TKey, TValue>.System.IDisposable.Dispose()
        protected virtual bool Sample.Registry<TKey, TValue>.TryAdd2(TKey key, TValue value)
        public abstract class Sample.Shape : Sample.IShape, System.IComparable<Sample.Shape>
        protected Sample.Shape.Shape(string name)
        public abstract double Sample.Shape.Area { get; }
        public event System.EventHandler? Sample.Shape.Changed
        public int Sample.Shape.CompareTo(Sample.Shape? other)
        protected internal int Sample.Shape.Counter { get; protected set; }
        public virtual string Sample.Shape.Describe(string? prefix = null)
        public string Sample.Shape.Name { get; }
        protected virtual void Sample.Shape.OnChanged()
        protected class Sample.Shape.Nested
        public Sample.Shape.Nested.Nested()
        public int Sample.Shape.Nested.Value
        """;

    [Fact]
    public void Dump_lists_public_and_protected_types_and_members()
    {
        var actual = PublicApi.Dump(sample.Path);

        AssertText(ExpectedSampleApi, actual);
    }

    [Fact]
    public void Dump_leaves_out_internal_private_protected_compiler_generated_and_protected_members_of_sealed_types()
    {
        var lines = PublicApi.Lines(sample.Path);

        Assert.DoesNotContain(lines, l => l.Contains("Internal", StringComparison.Ordinal));       // internal class
        Assert.DoesNotContain(lines, l => l.Contains("Hidden", StringComparison.Ordinal));         // private protected, internal members
        Assert.DoesNotContain(lines, l => l.Contains("Circle.OnChanged", StringComparison.Ordinal)); // protected in a sealed class
        Assert.DoesNotContain(lines, l => l.Contains("EqualityContract", StringComparison.Ordinal) || l.Contains("<Clone>$", StringComparison.Ordinal)
                                          || l.Contains("PrintMembers", StringComparison.Ordinal) || l.Contains("k__BackingField", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(".get_", StringComparison.Ordinal) || l.Contains(".add_", StringComparison.Ordinal));
        Assert.Contains("protected virtual void Sample.Shape.OnChanged()", lines);                // protected in an unsealed class
    }

    [Fact]
    public void Dump_does_not_depend_on_declaration_order_or_location()
    {
        const string Forward = """
            namespace N
            {
                public class A { public void M2() { } public void M1() { } public int P { get; set; } }
                public interface IB { void X(); }
                public class A2 { }
            }
            """;
        const string Reversed = """
            namespace N
            {
                public class A2 { }
                public interface IB { void X(); }
                public class A { public int P { get; set; } public void M1() { } public void M2() { } }
            }
            """;
        using var one = new TempDirectory();
        using var two = new TempDirectory();

        var forward = PublicApi.Dump(Emit(one, "Order", Forward));
        var reversed = PublicApi.Dump(Emit(two, "Order", Reversed));

        Assert.Equal(forward, reversed);
        Assert.Equal(
            """
            public class N.A
            public N.A.A()
            public void N.A.M1()
            public void N.A.M2()
            public int N.A.P { get; set; }
            public class N.A2
            public N.A2.A2()
            public interface N.IB
            void N.IB.X()
            """.ReplaceLineEndings("\n"),
            forward);
    }

    [Fact]
    public void Dump_resolves_types_from_project_assemblies_next_to_the_assembly()
    {
        using var temp = new TempDirectory();
        var basePath = Emit(temp, "Lib.Base", "namespace Lib { public abstract class Handle { public abstract int Value { get; } } }");
        var derivedPath = Emit(temp, "Lib.Derived",
            "namespace Lib.More { public sealed class Pasid : Lib.Handle { public override int Value => 1; public Lib.Handle Self() => this; } }",
            MetadataReference.CreateFromFile(basePath));

        var lines = PublicApi.Lines(derivedPath);

        Assert.Equal(
            [
                "public sealed class Lib.More.Pasid : Lib.Handle",
                "public Lib.More.Pasid.Pasid()",
                "public Lib.Handle Lib.More.Pasid.Self()",
                "public override int Lib.More.Pasid.Value { get; }",
            ],
            lines.ToArray());
    }

    [Fact]
    public void Dump_fails_when_a_referenced_assembly_is_missing()
    {
        using var baseDir = new TempDirectory();
        var basePath = Emit(baseDir, "Lib.Base", "namespace Lib { public class Handle { } }");
        using var temp = new TempDirectory();
        var derivedPath = Emit(temp, "Lib.Derived", "namespace Lib.More { public class Pasid : Lib.Handle { } }", MetadataReference.CreateFromFile(basePath));

        var error = Assert.Throws<InvalidOperationException>(() => PublicApi.Dump(derivedPath));

        Assert.Contains("Lib.Base", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_of_a_loaded_assembly_reads_its_file()
    {
        var lines = PublicApi.Lines(typeof(PublicApi).Assembly.Location);

        Assert.Equal(lines, PublicApi.Dump(typeof(PublicApi).Assembly).Split('\n'));
        Assert.Contains("public static class Ioasid.TestKit.PublicApi", lines);
        Assert.Contains("public static string Ioasid.TestKit.PublicApi.Dump(System.Reflection.Assembly assembly)", lines);
    }

    /// <summary>The kit's own API, approved with the kit's own snapshot (Snapshots/PublicApiTests.TestKit_public_api_is_approved.verified.txt).</summary>
    [Fact]
    public void TestKit_public_api_is_approved()
        => Snapshot.Verify(PublicApi.Dump(typeof(Snapshot).Assembly));

    private static void AssertText(string expected, string actual)
    {
        expected = Snapshot.NormalizeLineEndings(expected);
        Assert.True(expected == actual, "API text differs:\n" + LineDiff.Format(expected, actual));
    }

    private static string Emit(TempDirectory temp, string name, string source, params MetadataReference[] references)
    {
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source)], TestReferences.Net100.AddRange(references),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var path = temp.Combine(name + ".dll");
        var result = compilation.Emit(path);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return path;
    }
}
