namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// One 128-bit primary fault-recording register (FRCD; drivers.md §2.10) decoded. <c>qw0</c>: FI 63:12 (the faulting
/// page). <c>qw1</c> (bits 127:64): SID 15:0, PP 31, FR 39:32, PV 59:40, T 62 (1 = read, 0 = write), F 63 (pending;
/// software clears it by writing 1).
/// </summary>
/// <param name="Rid">SID.</param>
/// <param name="Pasid">PV when PP is set.</param>
/// <param name="Iova">FI: the faulting page address.</param>
/// <param name="Access">T: read or write.</param>
/// <param name="Reason">The vendor-neutral reason.</param>
/// <param name="Code">FR.</param>
public sealed record VtdFaultRecord(Rid Rid, Pasid? Pasid, Iova Iova, DmaAccess Access, FaultReason Reason, VtdFaultReason Code)
    : FaultRecord(Rid, Pasid, Iova, Access, Reason, (uint)Code)
{
    /// <summary>PP in <c>qw1</c>: bit 31.</summary>
    public const ulong PasidPresentBit = 1UL << 31;

    /// <summary>FR in <c>qw1</c>: bits 39:32.</summary>
    public const int ReasonShift = 32;

    /// <summary>PV in <c>qw1</c>: bits 59:40.</summary>
    public const int PasidShift = 40;

    /// <summary>T in <c>qw1</c>: bit 62 (1 = read).</summary>
    public const ulong ReadBit = 1UL << 62;

    /// <summary>F in <c>qw1</c>: bit 63.</summary>
    public const ulong FaultBit = 1UL << 63;

    /// <summary>Encodes the record as the hardware writes it into an FRCD, F set.</summary>
    public static (ulong Low, ulong High) Encode(Rid rid, Pasid? pasid, Iova iova, DmaAccess access, VtdFaultReason code) =>
        (iova.Value & ~0xFFFUL,
         rid.Value | (pasid is { } p ? PasidPresentBit | ((ulong)p.Value << PasidShift) : 0) | ((ulong)code << ReasonShift)
         | ((access & DmaAccess.Write) == 0 ? ReadBit : 0) | FaultBit);

    /// <summary>Decodes an FRCD (whether F is set is not checked).</summary>
    public static VtdFaultRecord Decode(ulong low, ulong high)
    {
        var code = (VtdFaultReason)(byte)(high >> ReasonShift);
        Pasid? pasid = (high & PasidPresentBit) != 0 ? new Pasid((uint)((high >> PasidShift) & 0xFFFFF)) : null;
        return new VtdFaultRecord(new Rid((ushort)high), pasid, new Iova(low & ~0xFFFUL),
            (high & ReadBit) != 0 ? DmaAccess.Read : DmaAccess.Write, ReasonOf(code), code);
    }

    /// <summary>The vendor-neutral class of a VT-d fault reason.</summary>
    public static FaultReason ReasonOf(VtdFaultReason code) => code switch
    {
        VtdFaultReason.None => FaultReason.None,
        VtdFaultReason.RootEntryNotPresent or VtdFaultReason.ContextEntryNotPresent or VtdFaultReason.PasidDirectoryEntryNotPresent
            or VtdFaultReason.PasidEntryNotPresent => FaultReason.NoEntry,
        VtdFaultReason.AddressBeyondWidth or VtdFaultReason.NonCanonical => FaultReason.AddressSize,
        VtdFaultReason.WriteNotPermitted or VtdFaultReason.FirstStageWriteNotPermitted or VtdFaultReason.FirstStagePrivilege => FaultReason.Permission,
        VtdFaultReason.ReadNotPermitted or VtdFaultReason.FirstStageNotPresent => FaultReason.Translation,
        VtdFaultReason.BlockedByTranslationType or VtdFaultReason.InterruptRange or VtdFaultReason.ScalableInterruptRange => FaultReason.Blocked,
        VtdFaultReason.SecondStageReadError or VtdFaultReason.RootTableReadError or VtdFaultReason.ContextTableReadError
            or VtdFaultReason.PasidDirectoryReadError or VtdFaultReason.PasidTableReadError or VtdFaultReason.FirstStageReadError => FaultReason.ExternalAbort,
        _ => FaultReason.InvalidEntry,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Code} (0x{(byte)Code:X2}) {Access} {Rid}{(Pasid is { } p ? $" pasid {p}" : string.Empty)} at {Iova}";
}
