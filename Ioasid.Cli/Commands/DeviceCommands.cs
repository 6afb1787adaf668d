using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;

namespace Ioasid.Cli.Commands;

/// <summary>PCI devices behind the mock IOMMU, the iommufd device uAPI (bind, attach, replace, detach), HWPTs and DMA.</summary>
internal static class DeviceCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("bridge add", "bridge add <name> <rid> [--no-acs]",
            "add a PCI bridge or switch port (without ACS its devices share a group)", BridgeAdd, "no-acs");
        yield return Command.Create("device add", "device add <name> <rid> [--behind <bridge>] [--pasid-bits <n>] [--no-acs]",
            "add a PCI function; the mock IOMMU probes it and picks its group", DeviceAdd, "behind=", "pasid-bits=", "no-acs");
        yield return Command.Create("device bind", "device bind <name>",
            "VFIO_DEVICE_BIND_IOMMUFD: bind to the iommufd context (claims DMA ownership of its group)", Bind);
        yield return Command.Create("device attach", "device attach <dev-id> <ioas-or-hwpt> [--pasid <n>]",
            "attach the RID (or a PASID) to an IOAS (automatic HWPT) or a HWPT", Attach, "pasid=");
        yield return Command.Create("device replace", "device replace <dev-id> <ioas-or-hwpt> [--pasid <n>]",
            "replace the attachment in one step; on failure the old one stays", Replace, "pasid=");
        yield return Command.Create("device detach", "device detach <dev-id> [--pasid <n>]", "detach the RID (or a PASID)", Detach, "pasid=");
        yield return Command.Create("device unbind", "device unbind <dev-id>", "unbind (detaches everything first)", Unbind);
        yield return Command.Create("hwpt alloc", "hwpt alloc <dev-id> <ioas> [--pasid] [--nest-parent] [--dirty]",
            "IOMMU_HWPT_ALLOC: a paging HWPT for the device's IOMMU that mirrors the IOAS (PASIDs need --pasid)", HwptAlloc,
            "pasid", "nest-parent", "dirty");
        yield return Command.Create("dma read", "dma read <name> <iova> <length> [--pasid <n>]",
            "the device reads through its IOMMU (a fault is reported, not an error)", DmaRead, "pasid=");
        yield return Command.Create("dma write", "dma write <name> <iova> <text> [--pasid <n>]",
            "the device writes through its IOMMU", DmaWrite, "pasid=");
        yield return Command.Create("faults", "faults", "the mock IOMMU's fault log", Faults);
    }

    private static string BridgeAdd(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        var rid = a.NextHandle<Rid>("rid");
        a.Done();
        s.Pci.Add(name, new PciDevice(rid, name, acs: !a.Flag("no-acs"), isBridge: true));
        return $"bridge {name} {rid}{(a.Flag("no-acs") ? " (no ACS)" : string.Empty)}";
    }

    private static string DeviceAdd(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        var rid = a.NextHandle<Rid>("rid");
        var behind = a.Option("behind");
        var pasidBits = (int)(a.NumberOption("pasid-bits") ?? 0);
        a.Done();
        PciDevice? upstream = behind is null ? null
            : s.Pci.TryGetValue(behind, out var bridge) ? bridge : throw new CommandException($"no bridge named '{behind}'");
        var pci = new PciDevice(rid, name, acs: !a.Flag("no-acs"), upstream, pasidBits);
        var device = s.Iommu.AddDevice(pci);
        s.Pci.Add(name, pci);
        return $"device {name} {rid}: {device.Unit}, {device.Group}, {(pasidBits > 0 ? $"{pasidBits}-bit PASID" : "no PASID")}";
    }

    private static string Bind(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        a.Done();
        var bound = s.Context.BindDevice(s.Iommu, s.Device(name));
        return $"device {bound.Id} bound ({name})";
    }

    private static string Attach(Session s, CommandArgs a)
    {
        var (device, pt, pasid) = DeviceTarget(s, a);
        var hwpt = device.Attach(pt, pasid);
        return $"device {device.Id}{PasidText(pasid)}: attached to hwpt {hwpt.Id}{(hwpt.IsAuto ? " (automatic)" : string.Empty)} of ioas {hwpt.Ioas.Id}";
    }

    private static string Replace(Session s, CommandArgs a)
    {
        var (device, pt, pasid) = DeviceTarget(s, a);
        var hwpt = device.Replace(pt, pasid);
        return $"device {device.Id}{PasidText(pasid)}: now on hwpt {hwpt.Id}{(hwpt.IsAuto ? " (automatic)" : string.Empty)} of ioas {hwpt.Ioas.Id}";
    }

    private static string Detach(Session s, CommandArgs a)
    {
        var device = s.Get<IommufdDevice>(a.NextNumber("dev-id"));
        var pasid = PasidOption(a);
        a.Done();
        device.Detach(pasid);
        return $"device {device.Id}{PasidText(pasid)}: detached ({(pasid.IsNoPasid ? "blocked" : "no domain")})";
    }

    private static string Unbind(Session s, CommandArgs a)
    {
        var device = s.Get<IommufdDevice>(a.NextNumber("dev-id"));
        a.Done();
        device.Unbind();
        return $"device {device.Id} unbound";
    }

    private static string HwptAlloc(Session s, CommandArgs a)
    {
        var device = s.Get<IommufdDevice>(a.NextNumber("dev-id"));
        var ioas = a.NextNumber("ioas");
        var flags = (a.Flag("pasid") ? HwptAllocFlags.Pasid : 0)
            | (a.Flag("nest-parent") ? HwptAllocFlags.NestParent : 0)
            | (a.Flag("dirty") ? HwptAllocFlags.DirtyTracking : 0);
        a.Done();
        var hwpt = s.Context.AllocHwptPaging(device, IoasidId.TryFrom((uint)Math.Min(ioas, uint.MaxValue), out var id) ? id : throw new IoasidException(Errno.ENOENT, $"no object with id {ioas}"), flags);
        return $"hwpt {hwpt.Id} (ioas {hwpt.Ioas.Id}, {hwpt.Domain.GetType().Name}{(flags == 0 ? string.Empty : ", " + flags)})";
    }

    private static string DmaRead(Session s, CommandArgs a)
    {
        var device = s.Device(a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var length = a.NextNumber("length");
        var pasid = PasidOption(a);
        a.Done();
        if (length > 4096)
        {
            throw new CommandException("dma read shows at most 4096 bytes");
        }

        var buffer = new byte[length];
        var request = DmaRequest.ForRead(device.Rid, iova, length);
        var result = s.MockDriver.Hardware.Dma(pasid.IsNoPasid ? request : request.WithPasid(pasid), buffer);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: \"{Encoding.ASCII.GetString(buffer)}\""
            : $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: fault {result.Fault} at {result.FaultIova}";
    }

    private static string DmaWrite(Session s, CommandArgs a)
    {
        var device = s.Device(a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var bytes = Encoding.UTF8.GetBytes(a.Next("text"));
        var pasid = PasidOption(a);
        a.Done();
        var request = DmaRequest.ForWrite(device.Rid, iova, (ulong)bytes.Length);
        var result = s.MockDriver.Hardware.Dma(pasid.IsNoPasid ? request : request.WithPasid(pasid), bytes);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} wrote {bytes.Length} bytes at {iova}"
            : $"dma {device.Pci.Name}{PasidText(pasid)} write {iova}: fault {result.Fault} at {result.FaultIova}";
    }

    private static string Faults(Session s, CommandArgs a)
    {
        a.Done();
        var faults = s.MockDriver.Hardware.Faults.Snapshot();
        return $"{faults.Count} fault(s)" + string.Concat(faults.Select(f =>
            $"\n  {f.Reason} {f.Access} rid {f.Rid}{(f.Pasid is { } p ? $" pasid {p}" : string.Empty)} iova {f.Iova}"));
    }

    private static (IommufdDevice Device, IoasidId Pt, Pasid Pasid) DeviceTarget(Session s, CommandArgs a)
    {
        var device = s.Get<IommufdDevice>(a.NextNumber("dev-id"));
        var pt = a.NextNumber("ioas-or-hwpt");
        var pasid = PasidOption(a);
        a.Done();
        return (device, s.Get<IommufdObject>(pt).Id, pasid);
    }

    private static Pasid PasidOption(CommandArgs a) =>
        a.NumberOption("pasid") is { } value
            ? Pasid.TryFrom((uint)Math.Min(value, uint.MaxValue), out var pasid) ? pasid : throw new IoasidException(Errno.EINVAL, $"PASID {value} is wider than 20 bits")
            : Pasid.NoPasid;

    private static string PasidText(Pasid pasid) => pasid.IsNoPasid ? string.Empty : $" pasid {pasid}";
}
