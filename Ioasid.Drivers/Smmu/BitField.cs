using System.Runtime.CompilerServices;

namespace Ioasid.Drivers.Smmu;

/// <summary>Reads and writes the bit field <c>[lo + width - 1 : lo]</c> of a 64-bit word: what every SMMUv3 format accessor is built on.</summary>
internal static class BitField
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mask(int lo, int width) => (width >= 64 ? ulong.MaxValue : (1UL << width) - 1) << lo;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get(ulong word, int lo, int width) => (word & Mask(lo, width)) >> lo;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Set(ulong word, int lo, int width, ulong value) => (word & ~Mask(lo, width)) | ((value << lo) & Mask(lo, width));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Bit(ulong word, int bit) => ((word >> bit) & 1) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SetBit(ulong word, int bit, bool value) => value ? word | (1UL << bit) : word & ~(1UL << bit);
}
