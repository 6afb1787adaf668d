using Ioasid.Analyzers.CodeFixes.Rules.IOA007;
using Ioasid.Analyzers.Rules.IOA007;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA007;

/// <summary>Kernel rule (__must_check): a result that owns an id, an object or pins must be kept.</summary>
public sealed class OwnedResultIgnoredTests
{
    private static Task Verify(string markup) => Verify<OwnedResultIgnoredAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_an_owning_result_is_dropped_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, IommuDevice device, IommufdDevice idev, IAccessOps ops,
                UserProcess process, ulong va, Ioas? maybe)
            {
                [|iommufd.AllocIoas()|];
                [|iommufd.BindDevice(core, device)|];
                [|iommufd.CreateAccess(ops)|];
                [|iommufd.AllocHwptPaging(idev, new IoasidId(1))|];
                var ioas = iommufd.AllocIoas();
                [|ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite)|];
                maybe?[|.Map(va, 0x1000, IoasMapFlags.ReadWrite)|];
                [|process.Mm.TryPin(va, 1, true, new ulong[1])|];
                [|core.AllocPagingDomain(device, 0, default)|];
            }
        }
        """);

    [Fact]
    public Task When_the_result_is_kept_discarded_or_the_IOVA_was_given_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, UserProcess process, ulong va)
            {
                var ioas = iommufd.AllocIoas();
                _ = iommufd.AllocIoas();
                ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite, new Iova(0x10000));
                ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite, iova: new Iova(0x20000));
                if (process.Mm.TryPin(va, 1, true, new ulong[1]) != Errno.None) { return; }
                ioas.Unmap(new Iova(0x10000), 0x1000);
                using var other = new IommufdContext(process);
                Action alloc = () => iommufd.AllocIoas();
                Assert(() => iommufd.AllocIoas());
            }

            private static void Assert(Action action)
            {
            }
        }
        """);

    [Fact]
    public Task Fix_keeps_each_result_in_a_local_named_after_its_type() =>
        Verify<OwnedResultIgnoredAnalyzer>.FixAsync<OwnedResultIgnoredCodeFix>("""
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, Ioas ioas, Ioas? maybe, ulong va)
                {
                    [|iommufd.AllocIoas()|];
                    maybe?[|.Map(va, 0x1000, IoasMapFlags.ReadWrite)|];
                    [|ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite)|];
                }
            }
            """, """
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, Ioas ioas, Ioas? maybe, ulong va)
                {
                    var ioas2 = iommufd.AllocIoas();
                    var iova = maybe?.Map(va, 0x1000, IoasMapFlags.ReadWrite);
                    var iova2 = ioas.Map(va, 0x1000, IoasMapFlags.ReadWrite);
                }
            }
            """);
}
