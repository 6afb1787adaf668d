using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Smmu;
using Ioasid.Drivers.Smmu;

namespace Ioasid.Cli.Commands;

/// <summary>ARM SMMUv3 units, devices behind them, DMA through them, and dumps of STEs, CD tables, page tables, events and caches.</summary>
internal static class SmmuCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("smmu add", "smmu add <unit> [--sid-bits <n>] [--ssid-bits <n>] [--oas <bits>] [--granule 4k|16k|64k] [--map <rid-base>:<sid-base>:<length>] [--linear] [--no-cd2l] [--no-ril] [--no-s1] [--no-s2]",
            "create an SMMUv3 (hardware + driver); --map is its iommu-map (default: identity)", Add,
            "sid-bits=", "ssid-bits=", "oas=", "granule=", "map=", "linear", "no-cd2l", "no-ril", "no-s1", "no-s2");
        yield return Command.Create("smmu device add", "smmu device add <unit> <name> <rid> [--pasid-bits <n>]",
            "put a PCI function behind an SMMUv3 unit (StreamID from the unit's iommu-map); `device bind` then binds it", DeviceAdd, "pasid-bits=");
        yield return Command.Create("smmu dma read", "smmu dma read <name> <iova> <length> [--pasid <n>]",
            "the device reads through its SMMU (a fault is reported, not an error)", DmaRead, "pasid=");
        yield return Command.Create("smmu dma write", "smmu dma write <name> <iova> <text> [--pasid <n>]",
            "the device writes through its SMMU", DmaWrite, "pasid=");
        yield return Command.Create("smmu ste", "smmu ste <name>", "the device's StreamID and decoded STE", Ste);
        yield return Command.Create("smmu cd", "smmu cd <name>", "the device's CD table and its valid CDs", Cd);
        yield return Command.Create("smmu domain", "smmu domain <name> [--pasid <n>]",
            "the paging domain at the device's RID (or PASID): stage, tag, granule, levels, where it is installed", Domain, "pasid=");
        yield return Command.Create("smmu walk", "smmu walk <name> <iova> [--pasid <n>]",
            "the descriptors the domain's page table holds for an IOVA, level by level", Walk, "pasid=");
        yield return Command.Create("smmu events", "smmu events <unit>", "drain the unit's event queue (decoded records)", Events);
        yield return Command.Create("smmu cache", "smmu cache <unit>", "the unit's configuration cache and TLB contents/counters", Cache);
    }

    private static string Add(Session s, CommandArgs a)
    {
        var name = a.Next("unit");
        a.Done();
        if (s.SmmuUnits.ContainsKey(name))
        {
            throw new CommandException($"an SMMUv3 named '{name}' exists");
        }

        var id = new IdRegisters
        {
            SidBits = (int)(a.NumberOption("sid-bits") ?? 16),
            SsidBits = (int)(a.NumberOption("ssid-bits") ?? 20),
            OutputBits = (int)(a.NumberOption("oas") ?? 48),
            TwoLevelStreamTable = !a.Flag("linear"),
            TwoLevelCdTable = !a.Flag("no-cd2l"),
            RangeInvalidation = !a.Flag("no-ril"),
            Stage1 = !a.Flag("no-s1"),
            Stage2 = !a.Flag("no-s2"),
        };
        var map = new StreamIdMap();
        if (a.Option("map") is { } text)
        {
            var parts = text.Split(':');
            if (parts.Length != 3)
            {
                throw new CommandException("--map takes <rid-base>:<sid-base>:<length>");
            }

            map.Add((uint)CommandArgs.ParseNumber(parts[0], "rid-base"), (uint)CommandArgs.ParseNumber(parts[1], "sid-base"), (uint)CommandArgs.ParseNumber(parts[2], "length"));
        }
        else
        {
            map.Add(0, 0, 0x1_0000);
        }

        var driver = new SmmuV3Driver(s.Iommu, s.Machine.Memory, name, id, map, pci => s.SmmuDeviceUnits.TryGetValue(pci.Rid, out var u) && u == name)
        {
            PreferredGranule = a.Option("granule")?.ToLowerInvariant() switch
            {
                null or "4k" => TranslationGranule.Size4K,
                "16k" => TranslationGranule.Size16K,
                "64k" => TranslationGranule.Size64K,
                var g => throw new CommandException($"granule '{g}' is not 4k, 16k or 64k"),
            },
        };
        s.Iommu.RegisterDriver(driver.Ops);
        s.SmmuUnits.Add(name, driver);
        var f = driver.Features;
        return $"smmu {name}: {(f.Stage1 ? "S1" : string.Empty)}{(f.Stage1 && f.Stage2 ? "+" : string.Empty)}{(f.Stage2 ? "S2" : string.Empty)}, " +
            $"{f.SidBits}-bit SID ({(driver.StreamTable.TwoLevel ? "2-level" : "linear")} stream table), {f.SsidBits}-bit SSID, OAS {f.OutputBits}, " +
            $"{driver.PreferredGranule} pages, IDR0 0x{driver.Hardware.Id.Idr0:x8} IDR1 0x{driver.Hardware.Id.Idr1:x8} IDR5 0x{driver.Hardware.Id.Idr5:x8}";
    }

    private static string DeviceAdd(Session s, CommandArgs a)
    {
        var unitName = a.Next("unit");
        var name = a.Next("name");
        var rid = a.NextHandle<Rid>("rid");
        var pasidBits = (int)(a.NumberOption("pasid-bits") ?? 0);
        a.Done();
        var unit = s.SmmuUnit(unitName);
        if (s.Pci.ContainsKey(name))
        {
            throw new CommandException($"a device named '{name}' exists");
        }

        var pci = new PciDevice(rid, name, pasidBits: pasidBits);
        s.VendorDevices.Add(rid);
        s.SmmuDeviceUnits[rid] = unitName;
        IommuDevice device;
        try
        {
            device = s.Iommu.AddDevice(pci);
        }
        catch (IoasidException e) when (e.Errno == Errno.ENODEV)
        {
            s.VendorDevices.Remove(rid);
            s.SmmuDeviceUnits.Remove(rid);
            throw new IoasidException(Errno.ENODEV, $"{name} is not behind {unit.Unit} (its iommu-map does not cover {rid})");
        }
        catch
        {
            s.VendorDevices.Remove(rid);
            s.SmmuDeviceUnits.Remove(rid);
            throw;
        }

        s.Pci.Add(name, pci);
        var master = unit.MasterOf(device);
        return $"device {name} {rid}: {device.Unit}, sid 0x{master.StreamId:x}, {device.Group}, {(master.SsidBits > 0 ? $"{master.SsidBits}-bit SSID" : "no SSID")}";
    }

    private static string DmaRead(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
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
        var result = HardwareOf(device).Dma(pasid is { } p ? request.WithPasid(p) : request, buffer);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: \"{Encoding.ASCII.GetString(buffer)}\""
            : $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: fault {result.Fault} ({(SmmuEventType)result.VendorCode}) at {result.FaultIova}";
    }

    private static string DmaWrite(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var bytes = Encoding.UTF8.GetBytes(a.Next("text"));
        var pasid = PasidOption(a);
        a.Done();
        var request = DmaRequest.ForWrite(device.Rid, iova, (ulong)bytes.Length);
        var result = HardwareOf(device).Dma(pasid is { } p ? request.WithPasid(p) : request, bytes);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} wrote {bytes.Length} bytes at {iova}"
            : $"dma {device.Pci.Name}{PasidText(pasid)} write {iova}: fault {result.Fault} ({(SmmuEventType)result.VendorCode}) at {result.FaultIova}";
    }

    private static string Ste(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
        a.Done();
        var driver = DriverOf(device);
        var master = driver.MasterOf(device);
        var ste = driver.StreamTable.Read(master.StreamId);
        var text = new StringBuilder();
        text.Append($"sid 0x{master.StreamId:x} at {driver.StreamTable.EntryAddress(master.StreamId)}: {ste.Qw0:x16} {ste.Qw1:x16} {ste.Qw2:x16} {ste.Qw3:x16}");
        text.Append($"\n  V={(ste.Valid ? 1 : 0)} Config={(SteConfig)ste.RawConfig}");
        if (ste.Config is SteConfig.S1Translate or SteConfig.Nested)
        {
            text.Append($"\n  S1Fmt={ste.S1Fmt} S1ContextPtr={ste.S1ContextPtr} S1CDMax={ste.S1CdMax} S1DSS={ste.S1Dss} S1CIR={ste.S1Cir} S1COR={ste.S1Cor} S1CSH={ste.S1Csh} S1STALLD={(ste.S1StallDisable ? 1 : 0)}");
        }

        if (ste.Config is SteConfig.S2Translate or SteConfig.Nested)
        {
            text.Append($"\n  S2VMID={ste.S2Vmid} S2T0SZ={ste.S2T0Sz} S2SL0={ste.S2Sl0} S2TG={ste.S2Tg} S2PS={ste.S2Ps} S2AA64={(ste.S2Aa64 ? 1 : 0)} S2PTW={(ste.S2Ptw ? 1 : 0)} S2R={(ste.S2Record ? 1 : 0)} S2TTB={ste.S2Ttb}");
        }

        if (ste.Mev || ste.Shcfg != 0)
        {
            text.Append($"\n  MEV={(ste.Mev ? 1 : 0)} SHCFG={ste.Shcfg}");
        }

        return text.ToString();
    }

    private static string Cd(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
        a.Done();
        var master = DriverOf(device).MasterOf(device);
        if (master.CdTable is not { } table)
        {
            return $"{device.Pci.Name}: no CD table";
        }

        var text = new StringBuilder($"{device.Pci.Name}: CD table at {table.Base}, {table.Format}, S1CDMax {table.S1CdMax}{(table.Format == CdTableFormat.Linear ? string.Empty : $", {table.Leaves} leaf table(s)")}");
        var ssids = new SortedSet<uint> { 0 };
        ssids.UnionWith(master.Pasids.Keys);
        foreach (var ssid in ssids)
        {
            var cd = table.Read(ssid);
            if (!cd.Valid)
            {
                text.Append($"\n  cd {ssid}: invalid");
                continue;
            }

            text.Append($"\n  cd {ssid}: {cd.Qw0:x16} {cd.Qw1:x16} {cd.Qw2:x16} {cd.Qw3:x16}");
            text.Append($"\n    ASID={cd.Asid} T0SZ={cd.T0Sz} TG0={cd.Tg0} IPS={cd.Ips} EPD1={(cd.Epd1 ? 1 : 0)} AA64={(cd.Aa64 ? 1 : 0)} R={(cd.Record ? 1 : 0)} A={(cd.Abort ? 1 : 0)} ASET={(cd.Aset ? 1 : 0)} TTB0={cd.Ttb0} MAIR=0x{cd.Mair:x}");
        }

        return text.ToString();
    }

    private static string Domain(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
        var pasid = PasidOption(a);
        a.Done();
        var domain = pasid is { } p ? s.Iommu.GetPasidDomain(device, p) : s.Iommu.GetDomain(device);
        if (domain is SmmuNestedDomain nested)
        {
            return $"nested domain over a stage-2 nest parent (VMID {nested.Parent.Vmid}); user vSTE {nested.UserQw0:x16} {nested.UserQw1:x16}";
        }

        if (domain is not SmmuPagingDomain paging)
        {
            return $"{device.Pci.Name}{PasidText(pasid)}: {(domain is null ? "no domain" : domain.Type.ToString())}";
        }

        var t = paging.Table;
        var installs = string.Join(", ", paging.Installs.Select(i => $"{i.Master.Device.Pci.Name}/ssid {i.Ssid}"));
        return $"paging domain: stage {(int)paging.Stage}, {(paging.Stage == SmmuStage.Stage1 ? $"ASID {paging.Asid}" : $"VMID {paging.Vmid}")}, " +
            $"{t.Granule} granule, IA {t.InputBits} OA {t.OutputBits}, start level {t.StartLevel} ({t.StartIndexBits} index bits), " +
            $"root {t.Root}, {t.TablePages} table frame(s); installed at {installs}";
    }

    private static string Walk(Session s, CommandArgs a)
    {
        var device = SmmuDevice(s, a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var pasid = PasidOption(a);
        a.Done();
        var domain = pasid is { } p ? s.Iommu.GetPasidDomain(device, p) : s.Iommu.GetDomain(device);
        if (domain is not SmmuPagingDomain paging)
        {
            throw new CommandException($"{device.Pci.Name}{PasidText(pasid)} is not on a paging domain");
        }

        Span<ulong> walk = stackalloc ulong[4];
        int n = paging.Table.ReadWalk(iova, walk);
        var text = new StringBuilder($"{iova} in the stage-{(int)paging.Stage} table at {paging.Table.Root}:");
        for (int i = 0; i < n; i++)
        {
            int level = paging.Table.StartLevel + i;
            ulong d = walk[i];
            string kind = !VmsaDescriptor.IsValid(d) ? "invalid" : VmsaDescriptor.IsTable(d, level) ? "table" : level == 3 ? "page" : "block";
            text.Append($"\n  L{level} {d:x16} {kind}");
            if (VmsaDescriptor.IsValid(d))
            {
                text.Append($" -> 0x{VmsaDescriptor.Address(d, paging.Table.Granule):x}");
            }
        }

        return text.ToString();
    }

    private static string Events(Session s, CommandArgs a)
    {
        var unit = s.SmmuUnit(a.Next("unit"));
        a.Done();
        var events = unit.Events.Drain();
        return $"{events.Count} event(s)" + string.Concat(events.Select(e => $"\n  {e}"));
    }

    private static string Cache(Session s, CommandArgs a)
    {
        var unit = s.SmmuUnit(a.Next("unit"));
        a.Done();
        var hw = unit.Hardware;
        var text = new StringBuilder($"config cache: {hw.ConfigCache.Streams.Count} STE(s), {hw.ConfigCache.Contexts.Count} CD(s), {hw.ConfigCache.Hits} hit(s), {hw.ConfigCache.Misses} miss(es)");
        foreach (var ste in hw.ConfigCache.Streams.OrderBy(c => c.StreamId))
        {
            text.Append($"\n  {ste}");
        }

        foreach (var cd in hw.ConfigCache.Contexts.OrderBy(c => c.StreamId).ThenBy(c => c.Index))
        {
            text.Append($"\n  sid 0x{cd.StreamId:x} {cd}");
        }

        text.Append($"\ntlb: {hw.Iotlb.Count} entr{(hw.Iotlb.Count == 1 ? "y" : "ies")}, {hw.Iotlb.Hits} hit(s), {hw.Iotlb.Misses} miss(es), {hw.Iotlb.Invalidations} invalidation(s) dropping {hw.Iotlb.EntriesInvalidated}");
        text.Append($"\ncommands: {hw.CommandsExecuted} executed, {hw.Syncs} CMD_SYNC");
        return text.ToString();
    }

    private static IommuDevice SmmuDevice(Session s, string name)
    {
        var device = s.Device(name);
        return device.Unit is SmmuUnit ? device : throw new IoasidException(Errno.ENODEV, $"'{name}' is not behind an SMMUv3");
    }

    private static SmmuV3Driver DriverOf(IommuDevice device) =>
        device.Unit is SmmuUnit unit ? unit.Driver : throw new CommandException($"{device.Pci.Name} is not behind an SMMUv3");

    private static SmmuV3Hardware HardwareOf(IommuDevice device) => DriverOf(device).Hardware;

    private static Pasid? PasidOption(CommandArgs a) =>
        a.NumberOption("pasid") is { } value
            ? Pasid.TryFrom((uint)Math.Min(value, uint.MaxValue), out var pasid) ? pasid : throw new IoasidException(Errno.EINVAL, $"PASID {value} is wider than 20 bits")
            : null;

    private static string PasidText(Pasid? pasid) => pasid is { } p ? $" pasid {p}" : string.Empty;
}
