using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using Ioasid.Drivers.Hardware.Vtd;
using Ioasid.Drivers.Vtd;

namespace Ioasid.Cli.Commands;

/// <summary>Intel VT-d units and devices behind them, DMA through them, and dumps of their tables, IOTLB and faults.</summary>
internal static class VtdCommands
{
    private const int MaxLines = 64;

    public static IEnumerable<Command> All()
    {
        yield return Command.Create("vtd add", "vtd add <unit> [--legacy] [--levels 3|4|5|34|45|345] [--no-2m] [--no-1g] [--caching-mode] [--pasid-bits <n>] [--fault-records <n>] [--first-stage]",
            "bring up a VT-d unit (scalable mode unless --legacy); --first-stage makes paging domains first-stage",
            Add, "legacy", "levels=", "no-2m", "no-1g", "caching-mode", "pasid-bits=", "fault-records=", "first-stage");
        yield return Command.Create("vtd device add", "vtd device add <unit> <name> <rid> [--pasid-bits <n>]",
            "add a PCI function behind a VT-d unit (its context entry and PASID table are set up at probe)", DeviceAdd, "pasid-bits=");
        yield return Command.Create("vtd dma read", "vtd dma read <name> <iova> <length> [--pasid <n>]",
            "the device reads through its VT-d unit (a fault is reported, not an error)", DmaRead, "pasid=");
        yield return Command.Create("vtd dma write", "vtd dma write <name> <iova> <text> [--pasid <n>]",
            "the device writes through its VT-d unit", DmaWrite, "pasid=");
        yield return Command.Create("vtd dump root", "vtd dump root <unit>", "the unit's registers and present root entries", DumpRoot);
        yield return Command.Create("vtd dump context", "vtd dump context <name>", "the device's context entry, decoded", DumpContext);
        yield return Command.Create("vtd dump pasid", "vtd dump pasid <name>", "the device's PASID directory and present PASID entries, decoded", DumpPasid);
        yield return Command.Create("vtd dump pgtable", "vtd dump pgtable <name> [--pasid <n>]",
            "the page table the device (or one PASID) translates through, present entries by level", DumpPageTable, "pasid=");
        yield return Command.Create("vtd dump iotlb", "vtd dump iotlb <unit>", "the unit's IOTLB entries (DID, PASID, stage, page, size, permissions)", DumpIotlb);
        yield return Command.Create("vtd faults", "vtd faults", "take pending fault records from every unit and print the fault log", Faults);
    }

    private static string Add(Session s, CommandArgs a)
    {
        var name = a.Next("unit");
        var levels = a.Option("levels") is { } text ? text.Select(c => c - '0').ToArray() : [3, 4];
        var pasidBits = (int)(a.NumberOption("pasid-bits") ?? 20);
        var records = (int)(a.NumberOption("fault-records") ?? 8);
        var legacy = a.Flag("legacy");
        a.Done();
        if (s.VtdUnits.ContainsKey(name))
        {
            throw new IoasidException(Errno.EEXIST, $"a VT-d unit named '{name}' exists");
        }

        var caps = new VtdCapabilities
        {
            SecondStageLevels = levels,
            MaxGuestAddressWidth = levels.Contains(5) ? 57 : 48,
            SecondStage2M = !a.Flag("no-2m"),
            SecondStage1G = !a.Flag("no-1g"),
            ScalableMode = !legacy,
            PasidBits = legacy ? 0 : pasidBits,
            Nesting = !legacy,
            FirstStage = !legacy,
            CachingMode = a.Flag("caching-mode"),
            FaultRecords = records,
        };
        try
        {
            caps.Validate();
        }
        catch (ArgumentException e)
        {
            throw new IoasidException(Errno.EINVAL, e.Message);
        }

        var vtd = s.Vtd;
        vtd.FirstStageByDefault |= a.Flag("first-stage");
        var unit = vtd.AddUnit(name, caps, pci => s.VtdDeviceUnits.TryGetValue(pci.Rid, out var u) && u == name);
        s.VtdUnits.Add(name, unit);
        return $"vtd {name}: {(unit.ScalableMode ? "scalable" : "legacy")} mode, {unit.Levels}-level second stage, cap {Format.Hex(unit.Cap)} ecap {Format.Hex(unit.Ecap)}";
    }

    private static string DeviceAdd(Session s, CommandArgs a)
    {
        var unitName = a.Next("unit");
        var name = a.Next("name");
        var rid = a.NextHandle<Rid>("rid");
        var pasidBits = (int)(a.NumberOption("pasid-bits") ?? 0);
        a.Done();
        s.VtdUnit(unitName);
        var pci = new PciDevice(rid, name, pasidBits: pasidBits);
        s.VendorDevices.Add(rid);
        s.VtdDeviceUnits[rid] = unitName;
        IommuDevice device;
        try
        {
            device = s.Iommu.AddDevice(pci);
        }
        catch
        {
            s.VendorDevices.Remove(rid);
            s.VtdDeviceUnits.Remove(rid);
            throw;
        }

        s.Pci.Add(name, pci);
        return $"device {name} {rid}: {device.Unit}, {device.Group}, {(pasidBits > 0 ? $"{pasidBits}-bit PASID" : "no PASID")}";
    }

    private static (IommuDevice Device, VtdIommuHardware Hardware) VtdDevice(Session s, string name)
    {
        var device = s.Device(name);
        return device.DriverData is VtdDeviceData data
            ? (device, data.Unit.Hardware)
            : throw new IoasidException(Errno.ENODEV, $"'{name}' is not behind a VT-d unit");
    }

    private static Pasid? PasidOption(CommandArgs a) =>
        a.NumberOption("pasid") is { } value
            ? Pasid.TryFrom((uint)Math.Min(value, uint.MaxValue), out var pasid) ? pasid : throw new IoasidException(Errno.EINVAL, $"PASID {value} is wider than 20 bits")
            : null;

    private static string PasidText(Pasid? pasid) => pasid is { } p ? $" pasid {p}" : string.Empty;

    private static string DmaRead(Session s, CommandArgs a)
    {
        var (device, hw) = VtdDevice(s, a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var length = a.NextNumber("length");
        var pasid = PasidOption(a);
        a.Done();
        if (length > 4096)
        {
            throw new CommandException("vtd dma read shows at most 4096 bytes");
        }

        var buffer = new byte[length];
        var result = hw.Dma(new DmaRequest(device.Rid, pasid, iova, length, DmaAccess.Read), buffer);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: \"{Encoding.ASCII.GetString(buffer)}\""
            : $"dma {device.Pci.Name}{PasidText(pasid)} read {iova}: fault {FaultText(result.VendorCode)} at {result.FaultIova}";
    }

    private static string DmaWrite(Session s, CommandArgs a)
    {
        var (device, hw) = VtdDevice(s, a.Next("name"));
        var iova = new Iova(a.NextNumber("iova"));
        var bytes = Encoding.UTF8.GetBytes(a.Next("text"));
        var pasid = PasidOption(a);
        a.Done();
        var result = hw.Dma(new DmaRequest(device.Rid, pasid, iova, (ulong)bytes.Length, DmaAccess.Write), bytes);
        return result.IsSuccess
            ? $"dma {device.Pci.Name}{PasidText(pasid)} wrote {bytes.Length} bytes at {iova}"
            : $"dma {device.Pci.Name}{PasidText(pasid)} write {iova}: fault {FaultText(result.VendorCode)} at {result.FaultIova}";
    }

    private static string FaultText(uint code) =>
        code == 0 ? "outside memory" : $"{(VtdFaultReason)code} ({Format.Hex(code)})";

    private static string DumpRoot(Session s, CommandArgs a)
    {
        var unit = s.VtdUnit(a.Next("unit"));
        a.Done();
        var hw = unit.Hardware;
        var memory = hw.Memory;
        var text = new StringBuilder();
        uint gsts = hw.ReadRegister32(VtdRegisters.GlobalStatus);
        text.Append(CultureInfo.InvariantCulture, $"vtd {unit.Name}: {(unit.ScalableMode ? "scalable" : "legacy")} root table {unit.RootTable}");
        text.Append(CultureInfo.InvariantCulture, $"\n  GSTS {Format.Hex(gsts)} (TES {Bit(gsts, 31)} RTPS {Bit(gsts, 30)} QIES {Bit(gsts, 26)}) FSTS {Format.Hex(hw.ReadRegister32(VtdRegisters.FaultStatus))}");
        text.Append(CultureInfo.InvariantCulture, $"\n  IQA {Format.Hex(hw.ReadRegister64(VtdRegisters.QueueAddress))} IQH {Format.Hex(hw.ReadRegister64(VtdRegisters.QueueHead))} IQT {Format.Hex(hw.ReadRegister64(VtdRegisters.QueueTail))} descriptors {hw.DescriptorsExecutedTotal}");
        for (int bus = 0; bus < 256; bus++)
        {
            ulong at = unit.RootTable.Value + ((ulong)bus * RootEntry.Size);
            var root = new RootEntry(memory.ReadU64(new PhysAddr(at)), memory.ReadU64(new PhysAddr(at + 8)));
            if (root.Present || root.UpperPresent)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  root[{bus:x2}] {root}: ");
                text.Append(unit.ScalableMode
                    ? $"lower {(root.Present ? root.ContextTable.ToString() : "-")} upper {(root.UpperPresent ? root.UpperContextTable.ToString() : "-")}"
                    : $"context table {root.ContextTable}");
            }
        }

        return text.ToString();
    }

    private static string Bit(uint value, int bit) => ((value >> bit) & 1).ToString(CultureInfo.InvariantCulture);

    private static string DumpContext(Session s, CommandArgs a)
    {
        var (device, _) = VtdDevice(s, a.Next("name"));
        a.Done();
        var data = VtdIommuDriver.DataOf(device);
        var unit = data.Unit;
        var memory = unit.Hardware.Memory;
        byte devfn = device.Rid.DevFn;
        ulong at = unit.RootTable.Value + ((ulong)device.Rid.Bus * RootEntry.Size);
        var root = new RootEntry(memory.ReadU64(new PhysAddr(at)), memory.ReadU64(new PhysAddr(at + 8)));
        bool upper = unit.ScalableMode && devfn >= 0x80;
        PhysAddr table = upper ? root.UpperContextTable : root.ContextTable;
        if (upper ? !root.UpperPresent : !root.Present)
        {
            return $"{device.Pci.Name} {device.Rid}: root entry {device.Rid.Bus:x2} not present";
        }

        if (unit.ScalableMode)
        {
            ulong e = table.Value + ((ulong)(devfn & 0x7F) * ScalableContextEntry.Size);
            var ce = new ScalableContextEntry(memory.ReadU64(new PhysAddr(e)), memory.ReadU64(new PhysAddr(e + 8)), memory.ReadU64(new PhysAddr(e + 16)), memory.ReadU64(new PhysAddr(e + 24)));
            return $"{device.Pci.Name} {device.Rid}: scalable context entry at {Format.Hex(e)} = {ce}\n" +
                $"  P {B(ce.Present)} FPD {B(ce.FaultProcessingDisable)} PASIDE {B(ce.PasidEnable)} PDTS {ce.DirectorySizeField} ({ce.DirectoryEntries} directory entries) PASIDDIRPTR {ce.PasidDirectory} RID_PASID {ce.RidPasid}";
        }

        ulong le = table.Value + ((ulong)devfn * ContextEntry.Size);
        var ctx = new ContextEntry(memory.ReadU64(new PhysAddr(le)), memory.ReadU64(new PhysAddr(le + 8)));
        if (!ctx.Present)
        {
            return $"{device.Pci.Name} {device.Rid}: legacy context entry at {Format.Hex(le)} = {ctx}: not present (FPD {B(ctx.FaultProcessingDisable)})";
        }

        return $"{device.Pci.Name} {device.Rid}: legacy context entry at {Format.Hex(le)} = {ctx}\n" +
            $"  P {B(ctx.Present)} FPD {B(ctx.FaultProcessingDisable)} TT {ctx.TranslationType} AW {ctx.AddressWidth} ({ctx.AddressWidth + 2}-level) DID {ctx.DomainId} SLPTPTR {ctx.SecondStageRoot}";
    }

    private static string B(bool value) => value ? "1" : "0";

    private static string DumpPasid(Session s, CommandArgs a)
    {
        var (device, _) = VtdDevice(s, a.Next("name"));
        a.Done();
        var data = VtdIommuDriver.DataOf(device);
        if (!data.Unit.ScalableMode)
        {
            return $"{device.Pci.Name}: legacy mode has no PASID table";
        }

        var memory = data.Unit.Hardware.Memory;
        var text = new StringBuilder($"{device.Pci.Name} {device.Rid}: PASID directory {data.PasidDirectory} ({data.DirectoryEntries} entries, {data.PasidTablePages} table page(s))");
        for (uint dir = 0; dir < data.DirectoryEntries; dir++)
        {
            var de = new PasidDirEntry(memory.ReadU64(new PhysAddr(data.PasidDirectory.Value + ((ulong)dir * PasidDirEntry.Size))));
            if (!de.Present)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n  dir[{dir}] {de}: PASID table {de.PasidTable}");
            for (uint i = 0; i < PasidDirEntry.PasidsPerTable; i++)
            {
                uint pasid = (dir << 6) | i;
                var pe = data.ReadPasidEntry(pasid);
                if (pe.Present || pe.FaultProcessingDisable)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n    pasid {pasid}{(pasid == VtdDeviceData.RidPasid ? " (RID_PASID)" : string.Empty)}: {PasidText(pe)}");
                }
            }
        }

        return text.ToString();
    }

    private static string PasidText(in PasidEntry pe) => pe.Pgtt switch
    {
        _ when !pe.Present => $"not present, FPD {B(pe.FaultProcessingDisable)}",
        PasidGranularTranslationType.SecondStage => $"PGTT second-stage DID {pe.DomainId} AW {pe.AddressWidth} SSPTPTR {pe.SecondStageRoot}",
        PasidGranularTranslationType.FirstStage => $"PGTT first-stage DID {pe.DomainId} {(pe.FirstStageFiveLevel ? 5 : 4)}-level FSPTPTR {pe.FirstStageRoot}",
        PasidGranularTranslationType.Nested => $"PGTT nested DID {pe.DomainId} FSPTPTR {pe.FirstStageRoot} (stage-2 address) SSPTPTR {pe.SecondStageRoot} AW {pe.AddressWidth}",
        PasidGranularTranslationType.PassThrough => $"PGTT pass-through DID {pe.DomainId}",
        _ => $"PGTT reserved ({pe})",
    };

    private static string DumpPageTable(Session s, CommandArgs a)
    {
        var (device, hw) = VtdDevice(s, a.Next("name"));
        var pasid = PasidOption(a);
        a.Done();
        var code = hw.ResolveUncached(device.Rid, pasid, out var config);
        if (code != VtdFaultReason.None)
        {
            return $"{device.Pci.Name}{PasidText(pasid)}: no translation ({code}, {Format.Hex((uint)code)})";
        }

        var text = new StringBuilder($"{device.Pci.Name}{PasidText(pasid)}: {config}");
        int lines = 0;
        switch (config.Kind)
        {
            case VtdTranslationKind.SecondStage:
            case VtdTranslationKind.Nested:
                text.Append(CultureInfo.InvariantCulture, $"\n second stage:");
                DumpTable(hw.Memory, text, config.SecondStageRoot.Value, config.SecondStageLevels, 0, firstStage: false, ref lines);
                break;
            case VtdTranslationKind.FirstStage:
                DumpTable(hw.Memory, text, config.FirstStageRoot.Value, config.FirstStageLevels, 0, firstStage: true, ref lines);
                break;
        }

        if (config.Kind == VtdTranslationKind.Nested)
        {
            text.Append("\n first stage: in stage-2 input space (walked through the second stage by the hardware)");
        }

        return text.ToString();
    }

    private static void DumpTable(PhysicalMemory memory, StringBuilder text, ulong table, int level, ulong baseIova, bool firstStage, ref int lines)
    {
        int shift = 12 + (9 * (level - 1));
        ulong pageSize = 1UL << shift;
        ReadOnlySpan<ulong> entries = memory.ReadTableEntries(new PhysAddr(table));
        string indent = new(' ', 2 + (2 * (5 - level)));
        for (int i = 0; i < entries.Length; i++)
        {
            ulong e = entries[i];
            if (!(firstStage ? FlPte.IsPresent(e) : SlPte.IsPresent(e)))
            {
                continue;
            }

            if (++lines > MaxLines)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n{indent}...");
                return;
            }

            ulong iova = baseIova | ((ulong)i << shift);
            bool leaf = level == 1 || (e & SlPte.PageSize) != 0;
            string flags = firstStage
                ? string.Concat((e & FlPte.Writable) != 0 ? "RW" : "R-", (e & FlPte.User) != 0 ? " U" : " S", (e & FlPte.Accessed) != 0 ? " A" : string.Empty, (e & FlPte.Dirty) != 0 && leaf ? " D" : string.Empty)
                : string.Concat((e & SlPte.Read) != 0 ? "R" : "-", (e & SlPte.Write) != 0 ? "W" : "-");
            ulong address = e & SlPte.AddressMask;
            if (!leaf)
            {
                ulong count = (e & SlPte.CountMask) >> SlPte.CountShift;
                text.Append(CultureInfo.InvariantCulture, $"\n{indent}L{level}[{i:x3}] {e:x16} table {Format.Hex(address)} {flags} ({count} present)");
                DumpTable(memory, text, address, level - 1, iova, firstStage, ref lines);
                continue;
            }

            // A run of leaves whose outputs follow each other prints as one line.
            int last = i;
            while (last + 1 < entries.Length && entries[last + 1] == entries[last] + pageSize)
            {
                last++;
            }

            string size = shift switch { 12 => "4K", 21 => "2M", _ => "1G" };
            text.Append(last == i
                ? $"\n{indent}L{level}[{i:x3}] {e:x16} iova {Format.Hex(iova)} -> {Format.Hex(address)} {size} {flags}"
                : $"\n{indent}L{level}[{i:x3}-{last:x3}] {e:x16}.. iova {Format.Hex(iova)} -> {Format.Hex(address)} {last - i + 1} x {size} {flags}".ToString(CultureInfo.InvariantCulture));
            i = last;
        }
    }

    private static string DumpIotlb(Session s, CommandArgs a)
    {
        var unit = s.VtdUnit(a.Next("unit"));
        a.Done();
        var iotlb = unit.Hardware.Iotlb;
        var entries = iotlb.Snapshot().OrderBy(e => e.Tag).ThenBy(e => e.Translation.InputBase.Value).ToList();
        var text = new StringBuilder($"vtd {unit.Name} IOTLB: {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}, {iotlb.Hits} hits, {iotlb.Misses} misses");
        foreach (var e in entries.Take(MaxLines))
        {
            var t = e.Translation;
            string size = t.PageShift switch { 12 => "4K", 21 => "2M", _ => "1G" };
            text.Append(CultureInfo.InvariantCulture,
                $"\n  did {VtdIotlbTag.DomainId(e.Tag)} pasid {VtdIotlbTag.Pasid(e.Tag)} {(VtdIotlbTag.IsFirstStage(e.Tag) ? "first-stage" : "second-stage")} {t.InputBase} -> {t.OutputBase} {size} {t.Permissions}");
        }

        return text.ToString();
    }

    private static string Faults(Session s, CommandArgs a)
    {
        a.Done();
        var vtd = s.Vtd;
        int taken = vtd.ServiceFaults();
        var log = vtd.FaultLog.Snapshot();
        return $"{taken} new, {log.Count} fault(s) logged{(vtd.FaultLog.Overflow ? " (log overflowed)" : string.Empty)}" + string.Concat(log.Select(f =>
            $"\n  FR {Format.Hex((byte)f.Code)} {f.Code} {f.Access} rid {f.Rid}{(f.Pasid is { } p ? $" pasid {p}" : string.Empty)} iova {f.Iova}"));
    }
}
