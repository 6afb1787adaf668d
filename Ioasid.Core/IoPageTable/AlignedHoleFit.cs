using System.Numerics;

namespace Ioasid.Core.IoPageTable;

/// <summary>
/// The kernel's placement rule inside one hole (<c>__alloc_iova_check_hole</c>): start at the hole's first address
/// rounded up to the alignment, then OR in the source's page offset, and accept if the whole length still fits.
/// </summary>
/// <remarks>
/// <para>
/// The OR (not an add) is the kernel's: the sub-page offset bits of the source address are forced into the IOVA, so
/// IOVA and source share their offset within the page as far as the alignment allows. For the alignments the kernel
/// computes, <c>pageOffset % alignment == 0</c> always holds (the alignment never exceeds the source's lowest set bit),
/// so the result is also aligned; when the page offset has bits above the alignment (e.g. alignment 0x100, offset
/// 0x200) the OR can skip past a lower aligned address. This rule reproduces that exactly rather than "improving" it.
/// </para>
/// <para>
/// One deliberate difference: the kernel's <c>ALIGN()</c> wraps to 0 for a hole starting within
/// <c>alignment - 1</c> of <see cref="ulong.MaxValue"/>, which could yield IOVA 0 or an address outside the hole;
/// here such a hole simply does not fit.
/// </para>
/// </remarks>
internal readonly struct AlignedHoleFit : IHoleFit
{
    private readonly ulong _length;
    private readonly ulong _mask;
    private readonly ulong _pageOffset;

    /// <summary>Creates the rule for one request.</summary>
    /// <param name="length">Bytes to place (at least 1).</param>
    /// <param name="alignment">Alignment, a power of two.</param>
    /// <param name="pageOffset">The source address modulo the page size, OR-ed into the IOVA.</param>
    public AlignedHoleFit(ulong length, ulong alignment, ulong pageOffset)
    {
        System.Diagnostics.Debug.Assert(length != 0 && BitOperations.IsPow2(alignment));
        _length = length;
        _mask = alignment - 1;
        _pageOffset = pageOffset;
    }

    /// <inheritdoc/>
    public ulong MinLength => _length;

    /// <inheritdoc/>
    public bool TryFit(ulong holeStart, ulong holeLast, out ulong at)
    {
        if (holeStart > ulong.MaxValue - _mask)
        {
            at = 0;
            return false;
        }

        ulong candidate = ((holeStart + _mask) & ~_mask) | _pageOffset;
        if (candidate > holeLast || holeLast - candidate < _length - 1)
        {
            at = 0;
            return false;
        }

        at = candidate;
        return true;
    }
}
