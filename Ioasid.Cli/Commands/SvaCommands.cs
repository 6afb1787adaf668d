using System.Collections.Generic;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Platform;

namespace Ioasid.Cli.Commands;

/// <summary>Shared Virtual Addressing: binding the session's process to a device, and its CPU page table.</summary>
internal static class SvaCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("sva bind", "sva bind <name>",
            "share the process's address space with the device (iommu_sva_bind_device); DMA with the printed PASID uses process addresses", Bind);
        yield return Command.Create("sva unbind", "sva unbind <name>", "drop one bind of the device (iommu_sva_unbind_device)", Unbind);
        yield return Command.Create("sva pte", "sva pte <va>", "the process's CPU page-table leaf for an address, decoded", Pte);
    }

    private static string Bind(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        a.Done();
        var device = s.Device(name);
        var bond = s.Iommu.BindSva(device, s.Process.Mm);
        s.SvaBonds[name] = bond;
        return $"sva {name}: pid {s.Process.Pid} on pasid {bond.Pasid}, {bond.Domain}, {bond.Users} user(s)";
    }

    private static string Unbind(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        a.Done();
        if (!s.SvaBonds.TryGetValue(name, out var bond))
        {
            throw new IoasidException(Errno.ENOENT, $"'{name}' is not bound to the process");
        }

        bond.Unbind();
        if (!bond.IsBound)
        {
            s.SvaBonds.Remove(name);
        }

        return $"sva {name}: pasid {bond.Pasid} {(bond.IsBound ? $"still has {bond.Users} user(s)" : "unbound")}";
    }

    private static string Pte(Session s, CommandArgs a)
    {
        var va = a.NextNumber("va");
        a.Done();
        if (s.Process.Mm.CpuPageTable is not { } table)
        {
            return "no CPU page table: the process was never bound for SVA";
        }

        var entry = table.ReadLeaf(va, out var level);
        if (!CpuPte.IsPresent(entry))
        {
            return $"va {Format.Hex(va)}: not present (level {level})";
        }

        return $"va {Format.Hex(va)}: level {level} entry {Format.Hex(entry)} ({Flags(entry, level)}) frame {CpuPte.Address(entry)}";
    }

    private static string Flags(ulong entry, int level)
    {
        var text = new StringBuilder("P");
        Add(text, entry, CpuPte.Writable, "RW");
        Add(text, entry, CpuPte.User, "US");
        Add(text, entry, CpuPte.Accessed, "A");
        Add(text, entry, CpuPte.Dirty, "D");
        if (level > 1)
        {
            Add(text, entry, CpuPte.PageSize, "PS");
        }

        Add(text, entry, CpuPte.ExecuteDisable, "XD");
        return text.ToString();
    }

    private static void Add(StringBuilder text, ulong entry, ulong bit, string name)
    {
        if ((entry & bit) != 0)
        {
            text.Append(' ').Append(name);
        }
    }
}
