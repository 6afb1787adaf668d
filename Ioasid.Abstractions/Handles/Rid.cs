using System;
using System.Globalization;

namespace Ioasid;

/// <summary>
/// A PCI requester id: the segment (16 bits), bus (8), device (5) and function (3) that identify the source of
/// a DMA. Written as <c>ssss:bb:dd.f</c> in lower-case hex, e.g. <c>0000:00:02.0</c>, as <c>lspci -D</c> does.
/// The raw value is <c>segment &lt;&lt; 16 | bus &lt;&lt; 8 | device &lt;&lt; 3 | function</c>.
/// </summary>
[TypedHandle<uint>(Format = HandleFormat.Custom)]
public readonly partial struct Rid
{
    /// <summary>The largest device number on a bus.</summary>
    public const int MaxDevice = 0x1F;

    /// <summary>The largest function number of a device.</summary>
    public const int MaxFunction = 0x7;

    /// <summary>The PCI segment (domain) number.</summary>
    public ushort Segment => (ushort)(Value >> 16);

    /// <summary>The bus number.</summary>
    public byte Bus => (byte)(Value >> 8);

    /// <summary>The device number, 0 to 31.</summary>
    public byte Device => (byte)((Value >> 3) & MaxDevice);

    /// <summary>The function number, 0 to 7.</summary>
    public byte Function => (byte)(Value & MaxFunction);

    /// <summary>The 16-bit bus/device/function value that appears on the bus as the requester id.</summary>
    public ushort Bdf => (ushort)Value;

    /// <summary>The device/function byte (devfn) as the kernel stores it: <c>device &lt;&lt; 3 | function</c>.</summary>
    public byte DevFn => (byte)Value;

    /// <summary>Creates a requester id from its parts.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="device"/> is above 31 or <paramref name="function"/> above 7.</exception>
    public static Rid Create(ushort segment, byte bus, byte device, byte function)
    {
        if (device > MaxDevice)
        {
            throw new ArgumentOutOfRangeException(nameof(device), device, "A PCI device number is 0 to 31.");
        }

        if (function > MaxFunction)
        {
            throw new ArgumentOutOfRangeException(nameof(function), function, "A PCI function number is 0 to 7.");
        }

        return new Rid(Compose(segment, bus, device, function));
    }

    /// <summary>Creates a requester id on segment 0.</summary>
    public static Rid Create(byte bus, byte device, byte function) => Create(0, bus, device, function);

    private static uint Compose(uint segment, uint bus, uint device, uint function) =>
        (segment << 16) | (bus << 8) | (device << 3) | function;

    private static partial bool TryFormatValue(uint value, Span<char> destination, out int charsWritten)
    {
        var rid = new Rid(value);
        return destination.TryWrite(CultureInfo.InvariantCulture,
            $"{rid.Segment:x4}:{rid.Bus:x2}:{rid.Device:x2}.{rid.Function:x1}", out charsWritten);
    }

    // Accepts "ssss:bb:dd.f" and, as lspci prints without -D, "bb:dd.f" on segment 0.
    private static partial bool TryParseValue(ReadOnlySpan<char> s, out uint value)
    {
        value = 0;
        uint segment = 0;
        var firstColon = s.IndexOf(':');
        if (firstColon < 0)
        {
            return false;
        }

        var rest = s.Slice(firstColon + 1);
        if (rest.IndexOf(':') >= 0)
        {
            if (!HexField(s.Slice(0, firstColon), 4, out segment))
            {
                return false;
            }

            s = rest;
        }

        var colon = s.IndexOf(':');
        var dot = s.IndexOf('.');
        if (colon < 0 || dot < colon)
        {
            return false;
        }

        if (!HexField(s.Slice(0, colon), 2, out var bus)
            || !HexField(s.Slice(colon + 1, dot - colon - 1), 2, out var device)
            || !HexField(s.Slice(dot + 1), 1, out var function)
            || device > MaxDevice || function > MaxFunction)
        {
            return false;
        }

        value = Compose(segment, bus, device, function);
        return true;
    }

    private static bool HexField(ReadOnlySpan<char> field, int maxDigits, out uint value)
    {
        value = 0;
        return field.Length >= 1 && field.Length <= maxDigits
            && uint.TryParse(field, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
