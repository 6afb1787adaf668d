using System;
using System.Numerics;

namespace Ioasid;

/// <summary>Page size and power-of-two alignment arithmetic shared by <see cref="Iova"/>, <see cref="PhysAddr"/> and the core.</summary>
public static class AddressMath
{
    /// <summary>The CPU and IOMMU base page size: 4 KiB.</summary>
    public const ulong PageSize = 4096;

    /// <summary>log2 of <see cref="PageSize"/>.</summary>
    public const int PageShift = 12;

    /// <summary>Whether <paramref name="value"/> is a multiple of <paramref name="alignment"/>, a power of two.</summary>
    public static bool IsAligned(ulong value, ulong alignment)
    {
        RequirePowerOfTwo(alignment);
        return (value & (alignment - 1)) == 0;
    }

    /// <summary><paramref name="value"/> rounded down to a multiple of <paramref name="alignment"/>, a power of two.</summary>
    public static ulong AlignDown(ulong value, ulong alignment)
    {
        RequirePowerOfTwo(alignment);
        return value & ~(alignment - 1);
    }

    /// <summary><paramref name="value"/> rounded up to a multiple of <paramref name="alignment"/>, a power of two; throws on overflow.</summary>
    public static ulong AlignUp(ulong value, ulong alignment)
    {
        RequirePowerOfTwo(alignment);
        return checked(value + (alignment - 1)) & ~(alignment - 1);
    }

    /// <summary>
    /// The smallest naturally aligned block of 4 KiB pages that holds both <paramref name="start"/> and
    /// <paramref name="endInclusive"/>: its first address and log2 of its page count. This is the address and mask of a
    /// VT-d page-selective or device-TLB invalidation and the address and size of an SMMUv3 ATC_INV; a block of 2^52
    /// pages or more starts at 0.
    /// </summary>
    public static (ulong Address, int Log2Pages) AlignedPageBlock(ulong start, ulong endInclusive)
    {
        ulong first = start >> PageShift;
        ulong last = endInclusive >> PageShift;
        int log2Pages = 64 - BitOperations.LeadingZeroCount(first ^ last);
        return (log2Pages >= 52 ? 0 : (first >> log2Pages) << log2Pages << PageShift, log2Pages);
    }

    private static void RequirePowerOfTwo(ulong alignment)
    {
        if (!BitOperations.IsPow2(alignment))
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a power of two.");
        }
    }
}
