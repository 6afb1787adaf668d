namespace Ioasid.Core.IoPageTable;

/// <summary>
/// One reservation: the inclusive range <c>[Start, Last]</c> and the object that owns it, as in the kernel's
/// <c>iopt_reserved</c> (owner: the domain for its aperture, the device for its reserved regions, null for the test
/// command <c>ADD_RESERVED</c>).
/// </summary>
internal readonly struct ReservedRange
{
    /// <summary>Creates a reservation.</summary>
    public ReservedRange(ulong start, ulong last, object? owner)
    {
        Start = start;
        Last = last;
        Owner = owner;
    }

    /// <summary>First reserved address.</summary>
    public ulong Start { get; }

    /// <summary>Last reserved address (inclusive).</summary>
    public ulong Last { get; }

    /// <summary>The owner, compared by reference when reservations are removed.</summary>
    public object? Owner { get; }

    /// <inheritdoc/>
    public override string ToString() => $"[0x{Start:x}, 0x{Last:x}] owner={Owner ?? "null"}";
}
