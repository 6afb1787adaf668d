using Ioasid.Analyzers.Rules.IOA009;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA009;

/// <summary>Kernel rule: a PASID attaches only to a PASID-compatible HWPT; an IOAS on a PASID is EINVAL.</summary>
public sealed class IoasOnPasidTests
{
    private static Task Verify(string markup) => Verify<IoasOnPasidAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_an_IOAS_is_attached_on_a_PASID_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdDevice gpu, Ioas ioas, MediatedDevice vgpu, Pasid pasid)
            {
                gpu.Attach([|ioas.Id|], new Pasid(3));
                gpu.Replace([|ioas.Id|], pasid);
                gpu.Attach(pasid: vgpu.Pasid!.Value, ptId: [|ioas.Id|]);
            }
        }
        """);

    [Fact]
    public Task When_an_IOAS_is_attached_on_the_RID_or_a_HWPT_on_a_PASID_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommufdDevice gpu, Ioas ioas, Pasid pasid, IoasidId unknown)
            {
                gpu.Attach(ioas.Id);
                gpu.Replace(ioas.Id, Pasid.NoPasid);
                var hwpt = iommufd.AllocHwptPaging(gpu, ioas.Id, HwptAllocFlags.Pasid);
                gpu.Attach(hwpt.Id, pasid);
                gpu.Attach(unknown, pasid);
            }
        }
        """);
}
