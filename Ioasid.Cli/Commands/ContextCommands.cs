using System.Collections.Generic;
using System.Linq;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Platform;

namespace Ioasid.Cli.Commands;

/// <summary>Commands on the iommufd context as a whole: objects, destroy, the RLIMIT mode.</summary>
internal static class ContextCommands
{
    public static IEnumerable<Command> All()
    {
        yield return Command.Create("destroy", "destroy <id>", "IOMMU_DESTROY of any object", Destroy);
        yield return Command.Create("objects", "objects", "list the context's objects", Objects);
        yield return Command.Create("option rlimit-mode", "option rlimit-mode [user|mm]",
            "IOMMU_OPTION_RLIMIT_MODE: get or set memlock accounting (needs CAP_SYS_RESOURCE)", RlimitMode, "cap-sys-resource");
    }

    private static string Destroy(Session s, CommandArgs a)
    {
        var id = a.NextNumber("id");
        a.Done();
        var obj = s.Get<Core.Iommufd.IommufdObject>(id);
        s.Context.Destroy(obj.Id);
        return $"destroyed {obj.Kind} {obj.Id}";
    }

    private static string Objects(Session s, CommandArgs a)
    {
        a.Done();
        var objects = s.Context.Objects;
        return $"{objects.Count} object(s)" + string.Concat(objects.Select(o => $"\n  {o.Id} {o.Kind} users={o.Users}"));
    }

    private static string RlimitMode(Session s, CommandArgs a)
    {
        var value = a.NextOrNull();
        a.Done();
        if (value is not null)
        {
            if (a.Flag("cap-sys-resource"))
            {
                s.Process.CapSysResource = true;
            }

            s.Context.SetAccountMode(value switch
            {
                "user" => AccountMode.User,
                "mm" => AccountMode.Mm,
                _ => throw new IoasidException(Errno.EINVAL, $"the RLIMIT mode is user or mm, not '{value}'"),
            });
        }

        return $"rlimit-mode {(s.Context.AccountMode == AccountMode.Mm ? "mm" : "user")}";
    }
}
