using System;

namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>
/// The primary fault log of a VT-d unit: CAP.NFR + 1 fault-recording registers (FRCD) and the FSTS bits that go with
/// them, with the recording rules of drivers.md §2.10 (QEMU's <c>vtd_report_frcd_fault</c>): nothing is recorded
/// while PFO is set; a fault from a SID that already has a pending record is dropped (compression); a fault whose
/// round-robin slot still holds a pending record sets PFO and is dropped. Faults of qualified reasons are not
/// recorded when FPD applies. The transaction fails either way.
/// </summary>
public sealed class VtdFaultRecorder
{
    private readonly ulong[] _frcd;
    private int _next;
    private uint _fsts;

    internal VtdFaultRecorder(int records) => _frcd = new ulong[records * 2];

    /// <summary>Fault-recording registers.</summary>
    public int Records => _frcd.Length / 2;

    /// <summary>FSTS bits owned by fault recording: PFO, PPF, FRI.</summary>
    public uint Status => _fsts;

    /// <summary>FECTL.IM: fault events are masked (IP is set instead of raising one).</summary>
    public bool InterruptMasked { get; set; }

    /// <summary>FECTL.IP.</summary>
    public bool InterruptPending { get; set; }

    /// <summary>Fault events raised (the MSI the driver's handler would get).</summary>
    public long Events { get; private set; }

    /// <summary>Faults written into a register.</summary>
    public long Recorded { get; private set; }

    /// <summary>Faults not recorded because FPD applied.</summary>
    public long Suppressed { get; private set; }

    /// <summary>Faults dropped by compression (same SID pending).</summary>
    public long Compressed { get; private set; }

    /// <summary>Faults dropped because of overflow (PFO set or the next slot pending).</summary>
    public long Overflowed { get; private set; }

    /// <summary>Reads 64-bit half <paramref name="half"/> (0 low, 1 high) of FRCD <paramref name="index"/>.</summary>
    public ulong Read(int index, int half) => _frcd[(index * 2) + half];

    /// <summary>Software writes the high half of FRCD <paramref name="index"/>: F is write-1-to-clear.</summary>
    public void WriteHigh(int index, ulong value)
    {
        if ((value & VtdFaultRecord.FaultBit) != 0)
        {
            _frcd[(index * 2) + 1] &= ~VtdFaultRecord.FaultBit;
            UpdatePending();
        }
    }

    /// <summary>Software writes FSTS: PFO is write-1-to-clear.</summary>
    public void WriteStatus(uint value)
    {
        if ((value & VtdRegisters.PrimaryFaultOverflow) != 0)
        {
            _fsts &= ~VtdRegisters.PrimaryFaultOverflow;
        }
    }

    /// <summary>Whether a reason is "qualified", i.e. FPD may suppress its recording (drivers.md §2.9).</summary>
    public static bool IsQualified(VtdFaultReason code) => code is not (VtdFaultReason.RootEntryNotPresent or VtdFaultReason.RootTableReadError
        or VtdFaultReason.ContextTableReadError or VtdFaultReason.RootEntryReserved or VtdFaultReason.PasidDirectoryReadError
        or VtdFaultReason.PasidTableReadError);

    /// <summary>Records a fault per the rules above.</summary>
    internal void Record(in DmaRequest request, VtdFaultReason code, bool faultProcessingDisabled)
    {
        if (faultProcessingDisabled && IsQualified(code))
        {
            Suppressed++;
            return;
        }

        if ((_fsts & VtdRegisters.PrimaryFaultOverflow) != 0)
        {
            Overflowed++;
            return;
        }

        ushort sid = request.Rid.Bdf;
        for (int i = 0; i < Records; i++)
        {
            ulong high = _frcd[(i * 2) + 1];
            if ((high & VtdFaultRecord.FaultBit) != 0 && (ushort)high == sid)
            {
                Compressed++;
                return;
            }
        }

        int slot = _next;
        if ((_frcd[(slot * 2) + 1] & VtdFaultRecord.FaultBit) != 0)
        {
            _fsts |= VtdRegisters.PrimaryFaultOverflow;
            Overflowed++;
            return;
        }

        (ulong low, ulong hi) = VtdFaultRecord.Encode(new Rid(sid), request.Pasid, request.Iova, request.Access, code);
        _frcd[slot * 2] = low;
        _frcd[(slot * 2) + 1] = hi;
        _next = (slot + 1) % Records;
        Recorded++;
        if ((_fsts & VtdRegisters.PrimaryPendingFault) == 0)
        {
            _fsts = (_fsts & ~(0xFFu << VtdRegisters.FaultRecordIndexShift)) | ((uint)slot << VtdRegisters.FaultRecordIndexShift) | VtdRegisters.PrimaryPendingFault;
            if (InterruptMasked)
            {
                InterruptPending = true;
            }
            else
            {
                Events++;
            }
        }
    }

    internal void Reset()
    {
        Array.Clear(_frcd);
        _next = 0;
        _fsts = 0;
    }

    private void UpdatePending()
    {
        for (int i = 0; i < Records; i++)
        {
            if ((_frcd[(i * 2) + 1] & VtdFaultRecord.FaultBit) != 0)
            {
                return;
            }
        }

        _fsts &= ~VtdRegisters.PrimaryPendingFault;
    }
}
