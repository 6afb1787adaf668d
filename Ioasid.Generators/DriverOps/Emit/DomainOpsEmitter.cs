using System.Linq;
using Ioasid.Generators.Common;

namespace Ioasid.Generators.DriverOps.Emit;

/// <summary>
/// Writes the generated part of an <c>[IommuDomainOps]</c> class: one static <c>DomainOps</c> table shared by every
/// domain of the class. Each entry is a static lambda with the delegate's exact parameters that casts the domain and
/// calls the class's static method; the compiler caches such lambdas, so a call through the table allocates nothing.
/// Absent entries are written out as <c>null</c> with what the core does instead.
/// </summary>
internal static class DomainOpsEmitter
{
    private const string DomainOps = "global::Ioasid.Core.Iommu.DomainOps";

    public static string Emit(DomainOpsModel model)
    {
        var w = GeneratedFile.Begin(model.Namespace);
        var kind = model.Paging ? "a paging domain" : "a domain without a page table";
        w.Line($"partial {model.TypeKeyword} {model.TypeName}");
        w.OpenBrace();
        w.Lines($$"""
            /// <summary>
            /// The operations table shared by every <see cref="{{model.TypeName}}"/>, {{kind}}: the kernel's
            /// <c>struct iommu_domain_ops</c> with its dirty ops, built once from the class's static <c>[DomainOp]</c> methods.
            /// Pass it to the <see cref="global::Ioasid.Core.Iommu.IommuDomain"/> constructor; every instance then exposes it
            /// as <see cref="global::Ioasid.Core.Iommu.IommuDomain.Ops"/>.
            /// </summary>
            public static readonly {{DomainOps}} OpsTable = new()
            """);
        w.OpenBrace();
        foreach (var entry in model.Entries)
        {
            if (entry.Method is null)
            {
                GeneratedFile.Absent(w, entry.Member, entry.AbsentNote);
                continue;
            }

            var parameters = string.Join(", ", entry.Parameters.Select(p => $"{p.Modifier}{p.Type} {p.Name}"));
            var arguments = string.Join(", ", entry.Parameters.Select((p, i) =>
                i == 0 && entry.DomainCast is not null ? $"({entry.DomainCast}){p.Name}" : $"{p.Modifier}{p.Name}"));
            w.Line($"{entry.Member} = static ({parameters})");
            w.Line($"    => {model.FullyQualifiedName}.{entry.Method}({arguments}),");
        }

        w.CloseBrace(";");
        w.CloseBrace();
        return w.ToString();
    }
}
