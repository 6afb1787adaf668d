using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Ioasid.Cli.Scripting;
using Ioasid.Core.Uapi;

namespace Ioasid.Cli.Commands;

/// <summary>
/// <c>ioctl</c>: sends one uAPI command as raw bytes through the byte-exact layer, and prints the struct the "kernel"
/// wrote back. The argument is given as hex bytes, or as <c>field=value</c> pairs using the C field names.
/// </summary>
internal static class IoctlCommands
{
    /// <summary>Every command the <c>ioctl</c> script command knows: name, request, struct.</summary>
    private static readonly (string Name, uint Request, Type Struct)[] Table =
    [
        ("IOMMU_DESTROY", IoctlNumbers.IommuDestroy, typeof(IommuDestroy)),
        ("IOMMU_IOAS_ALLOC", IoctlNumbers.IommuIoasAlloc, typeof(IommuIoasAlloc)),
        ("IOMMU_IOAS_ALLOW_IOVAS", IoctlNumbers.IommuIoasAllowIovas, typeof(IommuIoasAllowIovas)),
        ("IOMMU_IOAS_COPY", IoctlNumbers.IommuIoasCopy, typeof(IommuIoasCopy)),
        ("IOMMU_IOAS_IOVA_RANGES", IoctlNumbers.IommuIoasIovaRanges, typeof(IommuIoasIovaRanges)),
        ("IOMMU_IOAS_MAP", IoctlNumbers.IommuIoasMap, typeof(IommuIoasMap)),
        ("IOMMU_IOAS_UNMAP", IoctlNumbers.IommuIoasUnmap, typeof(IommuIoasUnmap)),
        ("IOMMU_OPTION", IoctlNumbers.IommuOption, typeof(IommuOption)),
        ("IOMMU_VFIO_IOAS", IoctlNumbers.IommuVfioIoas, typeof(IommuVfioIoas)),
        ("IOMMU_HWPT_ALLOC", IoctlNumbers.IommuHwptAlloc, typeof(IommuHwptAlloc)),
        ("IOMMU_GET_HW_INFO", IoctlNumbers.IommuGetHwInfo, typeof(IommuHwInfo)),
        ("IOMMU_HWPT_SET_DIRTY_TRACKING", IoctlNumbers.IommuHwptSetDirtyTracking, typeof(IommuHwptSetDirtyTracking)),
        ("IOMMU_HWPT_GET_DIRTY_BITMAP", IoctlNumbers.IommuHwptGetDirtyBitmap, typeof(IommuHwptGetDirtyBitmap)),
        ("IOMMU_HWPT_INVALIDATE", IoctlNumbers.IommuHwptInvalidate, typeof(IommuHwptInvalidate)),
        ("IOMMU_FAULT_QUEUE_ALLOC", IoctlNumbers.IommuFaultQueueAlloc, typeof(IommuFaultAlloc)),
        ("IOMMU_IOAS_MAP_FILE", IoctlNumbers.IommuIoasMapFile, typeof(IommuIoasMapFile)),
        ("IOMMU_VIOMMU_ALLOC", IoctlNumbers.IommuViommuAlloc, typeof(IommuViommuAlloc)),
        ("IOMMU_VDEVICE_ALLOC", IoctlNumbers.IommuVdeviceAlloc, typeof(IommuVdeviceAlloc)),
        ("IOMMU_IOAS_CHANGE_PROCESS", IoctlNumbers.IommuIoasChangeProcess, typeof(IommuIoasChangeProcess)),
        ("IOMMU_VEVENTQ_ALLOC", IoctlNumbers.IommuVeventqAlloc, typeof(IommuVeventqAlloc)),
        ("IOMMU_HW_QUEUE_ALLOC", IoctlNumbers.IommuHwQueueAlloc, typeof(IommuHwQueueAlloc)),
        ("IOMMU_TEST_CMD", IoctlNumbers.IommuTestCmd, typeof(IommuTestCmd)),
        ("VFIO_IOMMU_GET_INFO", IoctlNumbers.VfioIommuGetInfo, typeof(VfioIommuType1Info)),
        ("VFIO_IOMMU_MAP_DMA", IoctlNumbers.VfioIommuMapDma, typeof(VfioIommuType1DmaMap)),
        ("VFIO_IOMMU_UNMAP_DMA", IoctlNumbers.VfioIommuUnmapDma, typeof(VfioIommuType1DmaUnmap)),
    ];

    /// <summary>The union member of IOMMU_TEST_CMD each op uses (for printing).</summary>
    private static readonly Dictionary<uint, string> TestCmdMembers = new()
    {
        [1] = nameof(IommuTestCmd.AddReserved),
        [2] = nameof(IommuTestCmd.MockDomain),
        [3] = nameof(IommuTestCmd.CheckMap),
        [4] = nameof(IommuTestCmd.CheckRefs),
        [5] = nameof(IommuTestCmd.CreateAccess),
        [6] = nameof(IommuTestCmd.DestroyAccessPages),
        [7] = nameof(IommuTestCmd.AccessPages),
        [8] = nameof(IommuTestCmd.AccessRw),
        [10] = nameof(IommuTestCmd.MockDomainReplace),
        [11] = nameof(IommuTestCmd.AccessReplaceIoas),
        [12] = nameof(IommuTestCmd.MockDomainFlags),
    };

    public static IEnumerable<Command> All()
    {
        yield return Command.Create(
            "ioctl",
            "ioctl <command> (hex <bytes...> | <field>=<value> ...)",
            "send a uAPI command (IOMMU_IOAS_MAP, ioas_map, 0x3b85, ...) as raw bytes and print the struct written back",
            Ioctl);
    }

    private static string Ioctl(Session s, CommandArgs a)
    {
        var (name, request, type) = Lookup(a.Next("command"));
        var bytes = new byte[Marshal.SizeOf(type)];
        var first = a.NextOrNull();
        if (first == "hex")
        {
            bytes = ParseHex(a);
        }
        else
        {
            object value = Activator.CreateInstance(type)!;
            var sizeSet = false;
            for (var word = first; word is not null; word = a.NextOrNull())
            {
                var eq = word.IndexOf('=');
                if (eq <= 0)
                {
                    throw new CommandException($"'{word}' is not <field>=<value>");
                }

                var path = word[..eq];
                sizeSet |= path is "size" or "argsz";
                value = SetField(value, path, CommandArgs.ParseNumber(word[(eq + 1)..], path));
            }

            if (!sizeSet)
            {
                // The size (or argsz) a C caller would write: sizeof(the struct).
                value = SetField(value, type.GetField("Size") is not null ? "size" : "argsz", (ulong)bytes.Length);
            }

            bytes = ToBytes(value, bytes.Length);
        }

        a.Done();
        var rc = s.IommuFile.Ioctl(request, bytes);
        var decoded = Decode(type, bytes);
        if (rc < 0)
        {
            throw new IoasidException((Errno)(-rc), $"{name}: {decoded}");
        }

        return $"{name} = {rc}: {decoded}";
    }

    private static (string Name, uint Request, Type Struct) Lookup(string text)
    {
        var key = text.Replace('-', '_').ToUpperInvariant();
        foreach (var row in Table)
        {
            if (row.Name == key || row.Name == "IOMMU_" + key || row.Name == "VFIO_" + key)
            {
                return row;
            }
        }

        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var number))
        {
            foreach (var row in Table)
            {
                if (row.Request == number)
                {
                    return row;
                }
            }
        }

        throw new CommandException($"unknown ioctl '{text}' (try IOMMU_IOAS_MAP, ioas_map or 0x3b85)");
    }

    private static byte[] ParseHex(CommandArgs a)
    {
        var text = new StringBuilder();
        while (a.NextOrNull() is { } word)
        {
            text.Append(word.Replace("0x", "", StringComparison.OrdinalIgnoreCase));
        }

        try
        {
            return Convert.FromHexString(text.ToString());
        }
        catch (FormatException)
        {
            throw new CommandException("hex bytes must be an even number of hex digits");
        }
    }

    /// <summary>Sets a (possibly dotted, union-member) field named by its C name or its C# name.</summary>
    private static object SetField(object target, string path, ulong number)
    {
        var dot = path.IndexOf('.');
        var field = FindField(target.GetType(), dot < 0 ? path : path[..dot]);
        if (dot >= 0)
        {
            var inner = field.GetValue(target)!;
            field.SetValue(target, SetField(inner, path[(dot + 1)..], number));
            return target;
        }

        var fieldType = field.FieldType;
        object converted = Type.GetTypeCode(fieldType) switch
        {
            TypeCode.Byte => checked((byte)number),
            TypeCode.UInt16 => checked((ushort)number),
            TypeCode.UInt32 => checked((uint)number),
            TypeCode.Int32 => unchecked((int)number),
            TypeCode.UInt64 => number,
            _ => throw new CommandException($"field '{path}' cannot be set from the command line; use the hex form"),
        };
        field.SetValue(target, converted);
        return target;
    }

    private static FieldInfo FindField(Type type, string name)
    {
        var pascal = ToPascal(name);
        return type.GetFields(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(f => string.Equals(f.Name, pascal, StringComparison.OrdinalIgnoreCase) || string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new CommandException($"{type.Name} has no field '{name}'");
    }

    /// <summary>The C# name of a C field: user_va → UserVa, __reserved → Reserved.</summary>
    private static string ToPascal(string name) =>
        string.Concat(name.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>A C name for a C# field: UserVa → user_va, Reserved → __reserved.</summary>
    private static string ToSnake(string name)
    {
        if (name.StartsWith("Reserved", StringComparison.Ordinal))
        {
            return "__" + name.ToLowerInvariant();
        }

        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && !char.IsDigit(name[i - 1]))
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static byte[] ToBytes(object value, int size)
    {
        var bytes = new byte[size];
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        try
        {
            Marshal.StructureToPtr(value, handle.AddrOfPinnedObject(), false);
        }
        finally
        {
            handle.Free();
        }

        return bytes;
    }

    private static object FromBytes(Type type, byte[] bytes)
    {
        var padded = new byte[Math.Max(bytes.Length, Marshal.SizeOf(type))];
        bytes.CopyTo(padded, 0);
        var handle = GCHandle.Alloc(padded, GCHandleType.Pinned);
        try
        {
            return Marshal.PtrToStructure(handle.AddrOfPinnedObject(), type)!;
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>The struct as <c>field=value</c> pairs in C names; for a union, the member the command uses.</summary>
    private static string Decode(Type type, byte[] bytes)
    {
        var value = FromBytes(type, bytes);
        var parts = new List<string>();
        DecodeInto(parts, "", type, value);
        return string.Join(" ", parts);
    }

    private static void DecodeInto(List<string> parts, string prefix, Type type, object value)
    {
        var testOp = value is IommuTestCmd cmd ? cmd.Op : (uint?)null;
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance).OrderBy(f => Marshal.OffsetOf(type, f.Name).ToInt32()))
        {
            var fieldValue = field.GetValue(value)!;
            if (field.FieldType.IsPrimitive)
            {
                if (field.Name != nameof(IommuHwInfo.InDataType))
                {
                    parts.Add($"{prefix}{ToSnake(field.Name)}={Number(Convert.ToUInt64(fieldValue, CultureInfo.InvariantCulture))}");
                }
            }
            else if (field.GetCustomAttribute<FixedBufferAttribute>() is null)
            {
                if (testOp is { } op && (!TestCmdMembers.TryGetValue(op, out var member) || member != field.Name))
                {
                    continue; // only the union member of this op
                }

                DecodeInto(parts, prefix + ToSnake(field.Name) + ".", field.FieldType, fieldValue);
            }
        }
    }

    private static string Number(ulong value) => value < 0x1000 ? value.ToString(CultureInfo.InvariantCulture) : Format.Hex(value);
}
