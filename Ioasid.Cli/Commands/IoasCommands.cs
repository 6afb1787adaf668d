using System.Collections.Generic;
using System.Linq;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Iommufd;

namespace Ioasid.Cli.Commands;

/// <summary>Commands that mirror the iommufd IOAS ioctls, one row each.</summary>
internal static class IoasCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("ioas alloc", "ioas alloc", "IOMMU_IOAS_ALLOC: a new empty I/O address space", Alloc);
        yield return Command.Create("ioas map", "ioas map <ioas> <va> <length> [--iova <iova>] [--ro|--wo]",
            "IOMMU_IOAS_MAP of process memory (FIXED_IOVA when --iova is given)", Map, "iova=", "ro", "wo");
        yield return Command.Create("ioas map-file", "ioas map-file <ioas> <fd> <start> <length> [--iova <iova>] [--ro|--wo]",
            "IOMMU_IOAS_MAP_FILE of a memfd", MapFile, "iova=", "ro", "wo");
        yield return Command.Create("ioas unmap", "ioas unmap <ioas> (<iova> <length> | all)",
            "IOMMU_IOAS_UNMAP of whole mappings; prints the bytes removed", Unmap);
        yield return Command.Create("ioas copy", "ioas copy <dst-ioas> <src-ioas> <src-iova> <length> [--iova <iova>] [--ro|--wo]",
            "IOMMU_IOAS_COPY: map the same memory again, in another or the same IOAS", Copy, "iova=", "ro", "wo");
        yield return Command.Create("ioas ranges", "ioas ranges <ioas> [--max <num_iovas>]",
            "IOMMU_IOAS_IOVA_RANGES: usable IOVA ranges and the IOAS alignment (EMSGSIZE past --max)", Ranges, "max=");
        yield return Command.Create("ioas allow", "ioas allow <ioas> [<start>-<last> ...]",
            "IOMMU_IOAS_ALLOW_IOVAS: where automatic IOVAs may go (none: clear)", Allow);
        yield return Command.Create("ioas areas", "ioas areas <ioas>", "list the mappings of an IOAS", Areas);
        yield return Command.Create("ioas option", "ioas option <ioas> huge-pages [on|off]",
            "IOMMU_OPTION_HUGE_PAGES: get or set large-page use", Option);
    }

    private static string Alloc(Session s, CommandArgs a)
    {
        a.Done();
        return $"ioas {s.Context.AllocIoas().Id}";
    }

    private static string Map(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var va = a.NextNumber("va");
        var length = a.NextNumber("length");
        var (flags, iova) = MapFlags(a);
        a.Done();
        var mapped = ioas.Map(va, length, flags, iova);
        return $"ioas {ioas.Id}: mapped {Format.Range(IovaRange.FromLength(mapped, length))} {Format.Protection(flags)} <- va {Format.Hex(va)}";
    }

    private static string MapFile(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var fd = (int)a.NextUInt("fd");
        var start = a.NextNumber("start");
        var length = a.NextNumber("length");
        var (flags, iova) = MapFlags(a);
        a.Done();
        var mapped = ioas.MapFile(s.File(fd), start, length, flags, iova);
        return $"ioas {ioas.Id}: mapped {Format.Range(IovaRange.FromLength(mapped, length))} {Format.Protection(flags)} <- memfd {fd} + {Format.Hex(start)}";
    }

    private static string Unmap(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var first = a.Next("iova");
        ulong unmapped;
        if (first == "all")
        {
            a.Done();
            unmapped = ioas.UnmapAll();
        }
        else
        {
            var iova = new Iova(CommandArgs.ParseNumber(first, "iova"));
            var length = a.NextNumber("length");
            a.Done();
            unmapped = ioas.Unmap(iova, length);
        }

        return $"ioas {ioas.Id}: unmapped {Format.Hex(unmapped)} bytes";
    }

    private static string Copy(Session s, CommandArgs a)
    {
        var dst = s.Get<Ioas>(a.NextNumber("dst-ioas"));
        var src = s.Get<Ioas>(a.NextNumber("src-ioas"));
        var srcIova = new Iova(a.NextNumber("src-iova"));
        var length = a.NextNumber("length");
        var (flags, iova) = MapFlags(a);
        a.Done();
        var copied = dst.CopyFrom(src, srcIova, length, flags, iova);
        return $"ioas {dst.Id}: mapped {Format.Range(IovaRange.FromLength(copied, length))} {Format.Protection(flags)} <- ioas {src.Id} {srcIova}";
    }

    private static string Ranges(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var max = a.NumberOption("max");
        a.Done();
        if (max is { } capacity)
        {
            var ranges = new IovaRange[(int)System.Math.Min(capacity, 4096)];
            ioas.GetIovaRanges(ranges, out var total, out var alignment);
            return $"ioas {ioas.Id}: alignment {Format.Hex(alignment)}, {total} range(s) {Format.Ranges(ranges.Take(total))}";
        }

        return $"ioas {ioas.Id}: alignment {Format.Hex(ioas.IovaAlignment)}, ranges {Format.Ranges(ioas.GetIovaRanges())}";
    }

    private static string Allow(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var ranges = new List<IovaRange>();
        while (a.NextOrNull() is { } text)
        {
            var dash = text.IndexOf('-', 1);
            if (dash < 0)
            {
                throw new CommandException($"'{text}' is not <start>-<last>");
            }

            ranges.Add(new IovaRange(new Iova(CommandArgs.ParseNumber(text[..dash], "start")), new Iova(CommandArgs.ParseNumber(text[(dash + 1)..], "last"))));
        }

        ioas.AllowIovas(ranges.ToArray());
        return $"ioas {ioas.Id}: allowed {Format.Ranges(ioas.AllowedIovas)}";
    }

    private static string Areas(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        a.Done();
        var areas = ioas.Areas;
        var lines = areas.Select(area =>
            $"\n  {Format.Range(area.Range)} {Format.Protection(area.Protection)} <- {(area.FromFile ? "memfd offset" : "va")} {Format.Hex(area.SourceAddress)}");
        return $"ioas {ioas.Id}: {areas.Count} mapping(s){string.Concat(lines)}";
    }

    private static string Option(Session s, CommandArgs a)
    {
        var ioas = s.Get<Ioas>(a.NextNumber("ioas"));
        var option = a.Next("option");
        if (option != "huge-pages")
        {
            throw new IoasidException(Errno.EOPNOTSUPP, $"unknown IOAS option '{option}'");
        }

        var value = a.NextOrNull();
        a.Done();
        if (value is not null)
        {
            ioas.SetHugePages(value switch
            {
                "on" or "1" => true,
                "off" or "0" => false,
                _ => throw new IoasidException(Errno.EINVAL, $"huge-pages is on or off, not '{value}'"),
            });
        }

        return $"ioas {ioas.Id}: huge-pages {(ioas.HugePages ? "on" : "off")}, alignment {Format.Hex(ioas.IovaAlignment)}";
    }

    private static (IoasMapFlags Flags, Iova Iova) MapFlags(CommandArgs a)
    {
        var flags = (a.Flag("ro"), a.Flag("wo")) switch
        {
            (true, true) => throw new CommandException("--ro and --wo exclude each other"),
            (true, false) => IoasMapFlags.Readable,
            (false, true) => IoasMapFlags.Writeable,
            _ => IoasMapFlags.ReadWrite,
        };
        var iova = a.NumberOption("iova");
        return iova is { } fixedIova ? (flags | IoasMapFlags.FixedIova, new Iova(fixedIova)) : (flags, default);
    }
}
