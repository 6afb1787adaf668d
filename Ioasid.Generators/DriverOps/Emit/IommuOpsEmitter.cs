using Ioasid.Generators.Common;

namespace Ioasid.Generators.DriverOps.Emit;

/// <summary>
/// Writes the generated part of an <c>[IommuDriver]</c> class: an <c>Ops</c> property that builds the driver's
/// <c>IommuOps</c> once per instance, every entry a delegate bound to the driver's own member (so dispatch is a
/// delegate call: no reflection, no allocation), and every absent entry written out as <c>null</c> with what the
/// core does instead, as the kernel's <c>struct iommu_ops</c> initialisers read.
/// </summary>
internal static class IommuOpsEmitter
{
    private const string IommuOps = "global::Ioasid.Core.Iommu.IommuOps";

    public static string Emit(DriverOpsModel model)
    {
        var w = GeneratedFile.Begin(model.Namespace);
        var name = XmlText.Escape(model.DriverName);
        w.Line($"partial {model.TypeKeyword} {model.TypeName}");
        w.OpenBrace();
        w.Lines($$"""
            private {{IommuOps}}? _iommuOps;

            /// <summary>
            /// The operations table of driver <c>{{name}}</c> (the kernel's <c>struct iommu_ops</c>), built on first use from
            /// this instance's <c>[IommuOp]</c> members and the same table ever after. Property entries (static domains,
            /// default domain ops) are read once, when the table is built.
            /// </summary>
            public {{IommuOps}} Ops => _iommuOps ?? InitializeIommuOps();

            // Builds the table once; when threads race, all of them get the one that was stored first.
            private {{IommuOps}} InitializeIommuOps()
            {
                var created = CreateIommuOps();
                return global::System.Threading.Interlocked.CompareExchange(ref _iommuOps, created, null) ?? created;
            }

            private {{IommuOps}} CreateIommuOps() => new()
            """);
        w.OpenBrace();
        w.Line($"Name = {Literal(model.DriverName)},");
        foreach (var entry in model.Entries)
        {
            if (entry.Source is null)
            {
                GeneratedFile.Absent(w, entry.Member, entry.AbsentNote);
            }
            else
            {
                w.Line($"{entry.Member} = this.{entry.Source},");
            }
        }

        w.CloseBrace(";");
        w.CloseBrace();
        return w.ToString();
    }

    private static string Literal(string text) =>
        Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);
}
