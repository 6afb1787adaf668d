using System;
using System.Collections.Generic;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Platform;

namespace Ioasid.Cli.Commands;

/// <summary>Commands on the user process: its memory (the mm IOAS_MAP takes user_va from), memfds, limits.</summary>
internal static class MemoryCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("mem map", "mem map <length> [--ro] [--huge] [--at <va>]",
            "mmap anonymous memory into the process; prints its VA", MemMap, "ro", "huge", "at=");
        yield return Command.Create("mem unmap", "mem unmap <va> <length>", "munmap part of the process's memory", MemUnmap);
        yield return Command.Create("mem write", "mem write <va> <text> | --hex <bytes>",
            "write text (or hex bytes) into process memory", MemWrite, "hex=");
        yield return Command.Create("mem read", "mem read <va> <length>", "read process memory as hex and text", MemRead);
        yield return Command.Create("memfd create", "memfd create <name> <size>", "create a memfd; prints its fd", MemfdCreate);
        yield return Command.Create("memfd map", "memfd map <fd> <offset> <length> [--ro]",
            "mmap a memfd shared into the process; prints its VA", MemfdMap, "ro");
        yield return Command.Create("process limit", "process limit <memlock-bytes|unlimited>",
            "set the process's RLIMIT_MEMLOCK", ProcessLimit);
        yield return Command.Create("process show", "process show", "the process's locked and pinned page counts", ProcessShow);
    }

    private static string MemMap(Session s, CommandArgs a)
    {
        var length = a.NextNumber("length");
        var at = a.NumberOption("at");
        a.Done();
        var va = s.Process.Mm.Map(length, a.Flag("ro") ? UserProt.Read : UserProt.ReadWrite, at, a.Flag("huge"));
        return $"va {Format.Hex(va)} length {Format.Size(length)}";
    }

    private static string MemUnmap(Session s, CommandArgs a)
    {
        var va = a.NextNumber("va");
        var length = a.NextNumber("length");
        a.Done();
        s.Process.Mm.Unmap(va, length);
        return $"unmapped {Format.Size(length)} at {Format.Hex(va)}";
    }

    private static string MemWrite(Session s, CommandArgs a)
    {
        var va = a.NextNumber("va");
        var bytes = a.Option("hex") is { } hex ? Convert.FromHexString(hex) : Encoding.UTF8.GetBytes(a.Next("text"));
        a.Done();
        s.Process.Mm.Write(va, bytes);
        return $"wrote {bytes.Length} bytes at {Format.Hex(va)}";
    }

    private static string MemRead(Session s, CommandArgs a)
    {
        var va = a.NextNumber("va");
        var length = a.NextNumber("length");
        a.Done();
        if (length > 4096)
        {
            throw new CommandException("mem read shows at most 4096 bytes");
        }

        var bytes = new byte[length];
        s.Process.Mm.Read(va, bytes);
        return $"{Format.Hex(va)}: {HexDump(bytes)}";
    }

    private static string MemfdCreate(Session s, CommandArgs a)
    {
        var name = a.Next("name");
        var size = a.NextNumber("size");
        a.Done();
        var fd = s.AddFile(s.Machine.CreateMemFd(name, size));
        return $"memfd {fd} size {Format.Size(size)}";
    }

    private static string MemfdMap(Session s, CommandArgs a)
    {
        var fd = (int)a.NextUInt("fd");
        var offset = a.NextNumber("offset");
        var length = a.NextNumber("length");
        a.Done();
        var va = s.Process.Mm.MapFile(s.File(fd), offset, length, a.Flag("ro") ? UserProt.Read : UserProt.ReadWrite);
        return $"va {Format.Hex(va)} length {Format.Size(length)} (memfd {fd} + {Format.Hex(offset)})";
    }

    private static string ProcessLimit(Session s, CommandArgs a)
    {
        var text = a.Next("memlock-bytes");
        a.Done();
        s.Process.MemlockLimit = text == "unlimited" ? UserProcess.RlimitInfinity : CommandArgs.ParseNumber(text, "memlock-bytes");
        return $"RLIMIT_MEMLOCK {(s.Process.MemlockLimit == UserProcess.RlimitInfinity ? "unlimited" : Format.Size(s.Process.MemlockLimit))}";
    }

    private static string ProcessShow(Session s, CommandArgs a)
    {
        a.Done();
        return $"pid {s.Process.Pid} {s.Process.User}: locked_vm {s.Process.User.LockedVm} pages (user), " +
               $"VmLck {s.Process.Mm.LockedVm} VmPin {s.Process.Mm.PinnedVm} pages";
    }

    private static string HexDump(byte[] bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
        }

        text.Append('"');
        foreach (var b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        }

        return text.Append('"').ToString();
    }
}
