using Ioasid.Analyzers.Rules.IOA001;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA001;

/// <summary>
/// Design decision: an mdev never reaches the IOMMU layer; its parent's device with the mdev's PASID does, or a
/// software access. These sources use the real MediatedDevice, IommufdContext and IommuCore.
/// </summary>
public sealed class MediatedDeviceInIommuLayerTests
{
    private static Task Verify(string markup) => Verify<MediatedDeviceInIommuLayerAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public async Task When_the_parent_looked_up_from_an_mdev_is_attached_on_its_RID_Reports()
    {
        var diagnostics = await Verify<MediatedDeviceInIommuLayerAnalyzer>.DiagnosticsAsync("""
            public static class Setup
            {
                public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci)
                {
                    var vgpu = new MediatedDevice(gpuPci, "vgpu0", new Pasid(2));
                    var gpu = iommufd.BindDevice(core, core.GetDevice(vgpu.Parent.Rid));
                    [|gpu.Attach(ioas.Id)|];
                    [|gpu.Replace(ioas.Id, Pasid.NoPasid)|];
                    [|gpu.Detach()|];
                    gpu.Attach(ioas.Id, vgpu.Pasid!.Value);
                    gpu.Detach(vgpu.Pasid!.Value);
                }
            }
            """);

        Assert.Equal(
            "the parent of mdev 'vgpu' is attached on its RID with no PASID: a mediated device never reaches the IOMMU layer; " +
            "use its parent's device with the mdev's PASID, or a software access",
            diagnostics[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task When_a_binding_parent_or_a_device_reached_through_locals_is_attached_on_the_RID_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, MediatedDevice vgpu, MdevBinding binding)
            {
                [|binding.Parent!.Attach(ioas.Id)|];
                PciDevice parent = vgpu.Parent;
                var rid = parent.Rid;
                IommuDevice device = core.GetDevice(rid);
                var bound = iommufd.BindDevice(core, device);
                [|bound.Attach(ioas.Id, default)|];
                [|core.SetGroupDomain(device.Group, core.BlockingDomainFor(device))|];
                var domain = [|core.GetDomain(device)|];
            }
        }
        """);

    [Fact]
    public Task When_an_mdev_flows_into_an_object_or_interface_parameter_of_the_IOMMU_layer_Reports() => Verify("""
        public interface IDmaSource { }

        [MediatedDevice]
        public sealed class VirtualFunction : IDmaSource { }

        public sealed class PhysicalFunction : IDmaSource { }

        [IommuLayer]
        public static class HostIommu
        {
            public static void Attach(IDmaSource source, IoasidId id) { }
        }

        public static class Setup
        {
            public static void Run(IommuCore core, IommuDevice device, MediatedDevice vgpu, VirtualFunction vf, PhysicalFunction pf, IoasidId id)
            {
                core.ClaimDmaOwner(device, [|vgpu|]);
                object owner = vgpu;
                core.ReleaseDmaOwner(device, [|owner|]);
                HostIommu.Attach([|vf|], id);
                IDmaSource source = vf;
                HostIommu.Attach([|source|], id);
                HostIommu.Attach(pf, id);
                HostIommu.Attach([|(IDmaSource)vf|], id);
            }
        }
        """);

    [Fact]
    public Task When_the_parent_of_a_user_defined_mdev_type_is_attached_on_its_RID_Reports() => Verify("""
        [MediatedDevice]
        public sealed class VirtualFunction
        {
            public VirtualFunction(PciDevice physicalFunction) => PhysicalFunction = physicalFunction;

            public PciDevice PhysicalFunction { get; }
        }

        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, VirtualFunction vf)
            {
                var pf = iommufd.BindDevice(core, core.GetDevice(vf.PhysicalFunction.Rid));
                [|pf.Attach(ioas.Id)|];
                pf.Attach(ioas.Id, new Pasid(5));
            }
        }
        """);

    [Fact]
    public Task When_a_PciDevice_is_fabricated_from_an_mdevs_identity_Reports() => Verify("""
        public static class Setup
        {
            public static PciDevice Run(MediatedDevice vgpu) => [|new PciDevice(vgpu.Parent.Rid, vgpu.Name)|];
        }
        """);

    [Fact]
    public Task When_IOMMU_layer_code_special_cases_an_mdev_type_Reports() => Verify("""
        [MediatedDevice]
        public sealed class VirtualFunction { }

        [IommuLayer]
        public sealed class HostIommu
        {
            public bool IsMdev(object dev) => [|dev is VirtualFunction|];

            public int Route(object dev) => dev switch
            {
                [|VirtualFunction vf|] => 1,
                [|MediatedDevice|] => 2,
                _ => 0,
            };

            public void Attach(VirtualFunction [|vf|]) { }
        }

        [IommuDomainOps(Paging = true)]
        public sealed class MyDomain : IommuDomain
        {
            public MyDomain() : base(IommuDomainType.Unmanaged, new DomainOps()) { }

            public static bool Check(object dev) => [|dev is MediatedDevice|] || [|dev as VirtualFunction|] != null;
        }
        """);

    [Fact]
    public Task When_the_mdev_is_bound_through_its_parent_and_PASID_or_an_access_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, Ioas ioas, PciDevice gpuPci, IAccessOps ops)
            {
                core.AddDevice(gpuPci);
                var gpu = iommufd.BindDevice(core, core.GetDevice(gpuPci.Rid));
                gpu.Attach(ioas.Id); // the parent's own traffic, not on an mdev's behalf
                var vgpu = new MediatedDevice(gpuPci, "vgpu0", new Pasid(2));
                var binding = iommufd.BindMediatedDevice(vgpu, gpu);
                binding.Attach(ioas.Id);
                binding.Parent!.Attach(ioas.Id, vgpu.Pasid!.Value);
                var vf = iommufd.BindMediatedDevice(new MediatedDevice(gpuPci, "vf0"), null, ops);
                vf.Attach(ioas.Id);
                Console.WriteLine(vgpu);
                object boxed = vgpu;
                if (boxed is MediatedDevice m) { Console.WriteLine(m.Name); }
                var copy = new PciDevice(Rid.Create(0, 4, 0, 0), "other", upstream: gpuPci);
            }
        }
        """);
}
