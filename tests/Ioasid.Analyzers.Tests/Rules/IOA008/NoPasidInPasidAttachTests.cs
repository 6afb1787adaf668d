using Ioasid.Analyzers.Rules.IOA008;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA008;

/// <summary>Kernel rule: iommu_attach_device_pasid refuses IOMMU_NO_PASID; an mdev's PASID is never 0.</summary>
public sealed class NoPasidInPasidAttachTests
{
    private static Task Verify(string markup) => Verify<NoPasidInPasidAttachAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_IOMMU_NO_PASID_is_given_to_the_PASID_path_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommuCore core, IommuDevice device, IommuDomain domain, PciDevice gpu)
            {
                core.SetPasid(device, [|Pasid.NoPasid|], domain);
                core.SetPasid(device, [|new Pasid(0)|], domain);
                core.SetPasid(device, [|default|], domain);
                var vgpu = new MediatedDevice(gpu, "vgpu", [|Pasid.NoPasid|]);
                var vf = new MediatedDevice(gpu, "vf", pasid: [|Pasid.MinValue|]);
            }
        }
        """);

    [Fact]
    public Task When_a_real_PASID_or_the_RID_path_is_used_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(IommuCore core, IommuDevice device, IommuDomain domain, PciDevice gpu, IommufdDevice idev, Pasid pasid)
            {
                core.SetPasid(device, new Pasid(1), domain);
                core.SetPasid(device, pasid, domain);
                idev.Attach(new IoasidId(2), Pasid.NoPasid);
                var vgpu = new MediatedDevice(gpu, "vgpu", new Pasid(3));
                var vf = new MediatedDevice(gpu, "vf");
                var none = new MediatedDevice(gpu, "none", null);
            }
        }
        """);
}
