using Ioasid.Analyzers.CodeFixes.Rules.IOA001;
using Ioasid.Analyzers.Rules.IOA001;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA001;

public sealed class MediatedDeviceInIommuLayerCodeFixTests
{
    private const string Before = """
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci)
            {
                var vgpu = new MediatedDevice(gpuPci, "vgpu0", new Pasid(2));
                var gpu = iommufd.BindDevice(core, core.GetDevice(vgpu.Parent.Rid));
                var hwpt = iommufd.AllocHwptPaging(gpu, ioas.Id, HwptAllocFlags.Pasid);
                [|gpu.Attach(hwpt.Id)|];
                [|gpu.Replace(hwpt.Id, Pasid.NoPasid)|];
                [|gpu.Detach()|];
            }
        }
        """;

    [Fact]
    public Task Use_the_mdevs_PASID_rewrites_the_RID_calls_to_PASID_calls() =>
        Verify<MediatedDeviceInIommuLayerAnalyzer>.FixAsync<MediatedDeviceInIommuLayerCodeFix>(Before, """
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci)
                {
                    var vgpu = new MediatedDevice(gpuPci, "vgpu0", new Pasid(2));
                    var gpu = iommufd.BindDevice(core, core.GetDevice(vgpu.Parent.Rid));
                    var hwpt = iommufd.AllocHwptPaging(gpu, ioas.Id, HwptAllocFlags.Pasid);
                    gpu.Attach(hwpt.Id, vgpu.Pasid!.Value);
                    gpu.Replace(hwpt.Id, vgpu.Pasid!.Value);
                    gpu.Detach(vgpu.Pasid!.Value);
                }
            }
            """, MediatedDeviceInIommuLayerCodeFix.UsePasidTitle);

    [Fact]
    public Task Use_the_mdevs_PASID_fills_a_named_pasid_argument() =>
        Verify<MediatedDeviceInIommuLayerAnalyzer>.FixAsync<MediatedDeviceInIommuLayerCodeFix>("""
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, Ioas ioas, MdevBinding binding)
                {
                    [|binding.Parent!.Attach(pasid: default, ptId: ioas.Id)|];
                }
            }
            """, """
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, Ioas ioas, MdevBinding binding)
                {
                    binding.Parent!.Attach(pasid: binding.Mdev.Pasid!.Value, ptId: ioas.Id);
                }
            }
            """);

    [Fact]
    public Task An_mdev_without_a_PASID_is_bound_through_the_iommufd_layer_with_the_access_ops_in_scope() =>
        Verify<MediatedDeviceInIommuLayerAnalyzer>.FixAsync<MediatedDeviceInIommuLayerCodeFix>("""
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci, IAccessOps ops)
                {
                    var vf = new MediatedDevice(gpuPci, "vf0");
                    var gpu = iommufd.BindDevice(core, core.GetDevice(vf.Parent.Rid));
                    [|gpu.Attach(ioas.Id)|];
                }
            }
            """, """
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci, IAccessOps ops)
                {
                    var vf = new MediatedDevice(gpuPci, "vf0");
                    var gpu = iommufd.BindDevice(core, core.GetDevice(vf.Parent.Rid));
                    gpu.Context.BindMediatedDevice(vf, gpu, ops).Attach(ioas.Id);
                }
            }
            """);

    [Fact]
    public Task Bind_the_mdev_is_the_first_fix_for_an_mdev_with_a_PASID_too() =>
        Verify<MediatedDeviceInIommuLayerAnalyzer>.FixAsync<MediatedDeviceInIommuLayerCodeFix>("""
            public static class Setup
            {
                public static void Run(IommufdDevice gpu, Ioas ioas, MediatedDevice vgpu)
                {
                    var parent = gpu.Context.BindDevice(gpu.Core, gpu.Core.GetDevice(vgpu.Parent.Rid));
                    [|parent.Attach(ioas.Id)|];
                }
            }
            """, """
            public static class Setup
            {
                public static void Run(IommufdDevice gpu, Ioas ioas, MediatedDevice vgpu)
                {
                    var parent = gpu.Context.BindDevice(gpu.Core, gpu.Core.GetDevice(vgpu.Parent.Rid));
                    parent.Context.BindMediatedDevice(vgpu, parent).Attach(ioas.Id);
                }
            }
            """);
}
