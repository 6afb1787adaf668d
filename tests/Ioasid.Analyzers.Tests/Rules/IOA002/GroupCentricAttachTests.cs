using Ioasid.Analyzers.Rules.IOA002;
using Ioasid.Analyzers.Tests.Support;

namespace Ioasid.Analyzers.Tests.Rules.IOA002;

/// <summary>Design decision: the device, not the group, is the unit of attachment; the group only constrains.</summary>
public sealed class GroupCentricAttachTests
{
    private static Task Verify(string markup) => Verify<GroupCentricAttachAnalyzer>.DiagnosticsAsync(markup);

    [Fact]
    public Task When_each_device_of_a_group_is_attached_in_a_loop_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, IommuDevice device, Ioas ioas, IommuDomain domain,
                Dictionary<IommuDevice, IommufdDevice> bound)
            {
                foreach (var member in device.Group.Devices)
                {
                    var idev = iommufd.BindDevice(core, member);
                    [|idev.Attach(ioas.Id)|];
                    [|bound[member].Replace(ioas.Id)|];
                    [|core.SetPasid(member, new Pasid(1), domain)|];
                }

                var group = device.Group;
                for (var i = 0; i < group.Devices.Count; i++)
                {
                    [|bound[group.Devices[i]].Attach(ioas.Id)|];
                }

                group.Devices.Where(d => d.MaxPasids > 0).ToList().ForEach(d => [|bound[d].Attach(ioas.Id)|]);
            }
        }
        """);

    [Fact]
    public Task When_SetGroupDomain_is_given_a_group_not_taken_from_a_device_Reports() => Verify("""
        public static class Setup
        {
            public static void Run(IommuCore core, IommuDevice device, IommuGroup group, IommuDomain domain)
            {
                [|core.SetGroupDomain(group, domain)|];
                [|core.SetGroupDomain(core.Groups.PciDeviceGroup(device), domain)|];
            }
        }
        """);

    [Fact]
    public Task When_devices_are_attached_one_by_one_DoesNotReport() => Verify("""
        public static class Setup
        {
            public static void Run(IommufdContext iommufd, IommuCore core, IommuDevice device, Ioas ioas, IommuDomain domain,
                IReadOnlyList<IommuDevice> devices)
            {
                var idev = iommufd.BindDevice(core, device);
                idev.Attach(ioas.Id);
                core.SetGroupDomain(device.Group, domain);
                var group = device.Group;
                core.SetGroupDomain(group, domain);
                foreach (var member in device.Group.Devices)
                {
                    Console.WriteLine(member.Rid); // the group constrains: reading it is fine
                }

                foreach (var other in devices)
                {
                    iommufd.BindDevice(core, other).Attach(ioas.Id);
                }
            }
        }
        """);
}
