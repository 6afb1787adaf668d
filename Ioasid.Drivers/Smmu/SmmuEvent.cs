using System;
using Ioasid.Drivers.Hardware;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// One event record (32 bytes, 4 little-endian qwords; drivers.md §3.8) and the vendor-neutral fault it stands for.
/// Layout: Type qw0[7:0], SSV qw0[11], SubstreamID qw0[31:12], StreamID qw0[63:32]; Stall qw1[31], PnU qw1[33],
/// InD qw1[34], RnW qw1[35], S2 qw1[39], CLASS qw1[41:40]; InputAddr qw2; qw3 = IPA [51:12] for stage-2 faults, or
/// the fetch address [51:3] for fetch/abort events.
/// </summary>
/// <param name="Rid">The requester the transaction came from (not in the record: the StreamID is).</param>
/// <param name="Pasid">The SubstreamID, or <see langword="null"/> when the transaction had none.</param>
/// <param name="Iova">The input address.</param>
/// <param name="Access">What the transaction did.</param>
/// <param name="Reason">The vendor-neutral reason.</param>
/// <param name="Type">The event type.</param>
/// <param name="StreamId">The StreamID.</param>
/// <param name="Stage2">Whether the fault happened at stage 2.</param>
/// <param name="Class">What the faulting access was doing.</param>
/// <param name="Address">qw3: the IPA of a stage-2 fault, or the fetch address of a fetch/abort event; 0 otherwise.</param>
public sealed record SmmuEvent(
    Rid Rid, Pasid? Pasid, Iova Iova, DmaAccess Access, FaultReason Reason,
    SmmuEventType Type, uint StreamId, bool Stage2, SmmuEventClass Class, ulong Address)
    : FaultRecord(Rid, Pasid, Iova, Access, Reason, (uint)Type)
{
    /// <summary>Size of an event record in bytes.</summary>
    public const int Size = 32;

    /// <summary>Whether the event's qw3 carries an IPA (stage-2 translation faults) rather than a fetch address.</summary>
    public bool HasIpa => Stage2 && Type is SmmuEventType.FTranslation or SmmuEventType.FAddrSize or SmmuEventType.FAccess or SmmuEventType.FPermission;

    /// <summary>Writes the record's four qwords to <paramref name="qwords"/>.</summary>
    public void Encode(Span<ulong> qwords)
    {
        qwords[0] = (ulong)Type
            | (Pasid is { } p ? (1UL << 11) | BitField.Set(0, 12, 20, p.Value) : 0)
            | ((ulong)StreamId << 32);
        qwords[1] = ((Access & DmaAccess.Write) == 0 ? 1UL << 35 : 0) // RnW: 1 = read
            | (Stage2 ? 1UL << 39 : 0)
            | BitField.Set(0, 40, 2, (ulong)Class);
        qwords[2] = Iova.Value;
        qwords[3] = HasIpa ? Address & BitField.Mask(12, 40) : Address & BitField.Mask(3, 49);
    }

    /// <summary>Decodes the type of a raw record.</summary>
    public static SmmuEventType TypeOf(ReadOnlySpan<ulong> qwords) => (SmmuEventType)(qwords[0] & 0xFF);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Type} sid 0x{StreamId:x}{(Pasid is { } p ? $" ssid {p.Value}" : string.Empty)} {Access} at {Iova}{(Stage2 ? " (stage 2)" : string.Empty)} class {Class}" +
        (Address != 0 ? $" addr 0x{Address:x}" : string.Empty);
}
