using System;
using System.Numerics;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// The alignment the kernel's <c>iopt_alloc_iova</c> asks of an automatically chosen IOVA (spec §4.3).
/// </summary>
/// <remarks>
/// The kernel keeps as much of the source address's natural alignment as the mapping can use, so a THP-backed buffer
/// lands on an IOVA the IOMMU can map with huge pages: round the length up to a power of two, never more aligned than
/// the source address itself, and never beyond a huge page (2 MiB with THP, else one page) — the cap also keeps the
/// later ALIGN() from overflowing.
/// </remarks>
internal static class AutoIovaAlignment
{
    /// <summary>The CPU page size the model assumes (x86-64's 4 KiB).</summary>
    public const ulong PageSize = 4096;

    /// <summary>The transparent huge page size (x86-64's 2 MiB), the cap when huge pages are available.</summary>
    public const ulong HugePageSize = 2UL << 20;

    /// <summary>
    /// Smallest power of two at least <paramref name="value"/>, for 1 &lt;= value &lt;= 2^63 (the kernel's
    /// <c>roundup_pow_of_two</c>).
    /// </summary>
    public static ulong RoundUpPowerOfTwo(ulong value)
    {
        if (value == 0 || value > 1UL << 63)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "roundup_pow_of_two is defined for 1 .. 2^63.");
        }

        return BitOperations.RoundUpToPowerOf2(value);
    }

    /// <summary>Lowest set bit of <paramref name="value"/> as a power of two (<c>1UL &lt;&lt; __ffs64(value)</c>); 0 for 0.</summary>
    public static ulong LowestSetBit(ulong value) => value & (~value + 1);

    /// <summary>
    /// Computes the alignment for an automatic allocation of <paramref name="length"/> bytes mapped from
    /// <paramref name="sourceAddress"/>, in the kernel's order of checks.
    /// </summary>
    /// <param name="sourceAddress">The user VA (or file offset) the mapping starts at; 0 means "no alignment hint".</param>
    /// <param name="length">Length in bytes.</param>
    /// <param name="maxAlignment">
    /// The cap: <see cref="HugePageSize"/> when transparent huge pages are available, else <see cref="PageSize"/>.
    /// Must be a power of two.
    /// </param>
    /// <param name="iovaAlignment">The IOAS's current <c>iova_alignment</c> (a power of two, 1 when unconstrained).</param>
    /// <param name="alignment">The alignment to allocate with.</param>
    /// <returns>
    /// <see cref="Errno.None"/>; <see cref="Errno.EOVERFLOW"/> for a zero length or one of at least
    /// <c>ULONG_MAX / 2</c> (the kernel's guard for <c>roundup_pow_of_two</c>); <see cref="Errno.EINVAL"/> when the
    /// result is below <paramref name="iovaAlignment"/>.
    /// </returns>
    public static Errno TryCompute(ulong sourceAddress, ulong length, ulong maxAlignment, ulong iovaAlignment, out ulong alignment)
    {
        if (!BitOperations.IsPow2(maxAlignment))
        {
            throw new ArgumentOutOfRangeException(nameof(maxAlignment), "The alignment cap must be a power of two.");
        }

        alignment = 0;
        if (length == 0 || length >= ulong.MaxValue / 2)
        {
            return Errno.EOVERFLOW;
        }

        ulong a = RoundUpPowerOfTwo(length);
        if (sourceAddress != 0)
        {
            a = Math.Min(a, LowestSetBit(sourceAddress));
        }

        if (a >= maxAlignment)
        {
            a = maxAlignment;
        }

        if (a < iovaAlignment)
        {
            return Errno.EINVAL;
        }

        alignment = a;
        return Errno.None;
    }
}
