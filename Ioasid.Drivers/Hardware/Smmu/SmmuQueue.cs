using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// The state of one circular queue in memory (command or event queue; drivers.md §3.2): base, log2 of the entry
/// count, and the PROD/CONS registers, each an index in bits [LOG2SIZE−1:0] with a wrap bit at LOG2SIZE. Empty when
/// PROD == CONS, full when the indices are equal and the wrap bits differ.
/// </summary>
public sealed class SmmuQueue
{
    internal SmmuQueue(int entrySize) => EntrySize = entrySize;

    /// <summary>Bytes per entry (16 for commands, 32 for events).</summary>
    public int EntrySize { get; }

    /// <summary>The queue's first entry.</summary>
    public PhysAddr Base { get; private set; }

    /// <summary>log2 of the number of entries.</summary>
    public int Log2Size { get; private set; }

    /// <summary>The PROD register (index and wrap; the event queue's overflow flag in bit 31).</summary>
    public uint Prod { get; internal set; }

    /// <summary>The CONS register (index and wrap; the command queue's ERR field in bits [30:24]).</summary>
    public uint Cons { get; internal set; }

    /// <summary>The raw base register.</summary>
    public ulong BaseRegister { get; private set; }

    /// <summary>Entries in the queue.</summary>
    public uint Entries => 1u << Log2Size;

    /// <summary>Mask of index and wrap bits.</summary>
    public uint PointerMask => (2u << Log2Size) - 1;

    /// <summary>Whether the queue holds nothing.</summary>
    public bool IsEmpty => (Prod & PointerMask) == (Cons & PointerMask);

    /// <summary>Whether the queue has no free entry.</summary>
    public bool IsFull => ((Prod ^ Cons) & PointerMask) == Entries;

    /// <summary>The address of the entry a pointer value designates.</summary>
    public PhysAddr EntryAddress(uint pointer) => new(Base.Value + ((pointer & (Entries - 1)) * (ulong)EntrySize));

    /// <summary>The pointer after <paramref name="pointer"/> (index + 1, wrapping and toggling the wrap bit).</summary>
    public uint Next(uint pointer) => (pointer + 1) & PointerMask;

    internal void SetBase(ulong value)
    {
        BaseRegister = value;
        Base = new PhysAddr(value & BitField.Mask(5, 47));
        Log2Size = (int)(value & 0x1F);
        Prod = 0;
        Cons = 0;
    }
}
