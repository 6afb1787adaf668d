using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace Ioasid.Drivers.Hardware;

/// <summary>
/// A hardware fault queue of bounded capacity (VT-d fault-recording registers, the SMMUv3 event queue): records are
/// kept oldest first until software takes them. When it is full a new record is dropped and
/// <see cref="Overflow"/> is set (VT-d PFO, SMMUv3 EVTQ overflow); the DMA result is unaffected. The flag stays set
/// until software clears it with <see cref="ClearOverflow"/>.
/// </summary>
/// <typeparam name="TRecord">The vendor's record type.</typeparam>
public sealed class FaultLog<TRecord>
    where TRecord : FaultRecord
{
    private readonly TRecord?[] _ring;
    private int _head;
    private int _count;

    /// <summary>Creates an empty log holding at most <paramref name="capacity"/> records.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public FaultLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _ring = new TRecord?[capacity];
    }

    /// <summary>How many records the log holds at most.</summary>
    public int Capacity => _ring.Length;

    /// <summary>How many records are pending.</summary>
    public int Count => _count;

    /// <summary>Whether the next record would be dropped.</summary>
    public bool IsFull => _count == _ring.Length;

    /// <summary>Whether a record has been dropped since the last <see cref="ClearOverflow"/>.</summary>
    public bool Overflow { get; private set; }

    /// <summary>Records accepted since creation.</summary>
    public long Recorded { get; private set; }

    /// <summary>Records dropped because the log was full, since creation.</summary>
    public long Dropped { get; private set; }

    /// <summary>The pending record <paramref name="index"/>, 0 being the oldest.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Count"/>.</exception>
    public TRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return _ring[(_head + index) % _ring.Length]!;
        }
    }

    /// <summary>Appends <paramref name="record"/>, or drops it and sets <see cref="Overflow"/> when the log is full.</summary>
    /// <returns>Whether the record was kept.</returns>
    public bool TryRecord(TRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (IsFull)
        {
            RecordDropped();
            return false;
        }

        _ring[(_head + _count) % _ring.Length] = record;
        _count++;
        Recorded++;
        return true;
    }

    /// <summary>
    /// Notes a record the hardware did not build because the log was full (so the fault path allocates nothing while
    /// the queue is overflowing): sets <see cref="Overflow"/> and counts it in <see cref="Dropped"/>.
    /// </summary>
    public void RecordDropped()
    {
        Overflow = true;
        Dropped++;
    }

    /// <summary>Takes the oldest pending record.</summary>
    public bool TryDequeue([MaybeNullWhen(false)] out TRecord record)
    {
        if (_count == 0)
        {
            record = null;
            return false;
        }

        record = _ring[_head]!;
        _ring[_head] = null;
        _head = (_head + 1) % _ring.Length;
        _count--;
        return true;
    }

    /// <summary>The pending records, oldest first, without taking them.</summary>
    public IReadOnlyList<TRecord> Snapshot()
    {
        var records = new TRecord[_count];
        for (int i = 0; i < _count; i++)
        {
            records[i] = _ring[(_head + i) % _ring.Length]!;
        }

        return records;
    }

    /// <summary>Software acknowledges the overflow (writing 1 to clear PFO): new records are accepted as space allows.</summary>
    public void ClearOverflow() => Overflow = false;

    /// <summary>Drops every pending record and clears <see cref="Overflow"/>.</summary>
    public void Clear()
    {
        Array.Clear(_ring);
        _head = 0;
        _count = 0;
        Overflow = false;
    }
}
