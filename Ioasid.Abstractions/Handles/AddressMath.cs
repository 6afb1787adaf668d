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

    private static void RequirePowerOfTwo(ulong alignment)
    {
        if (!BitOperations.IsPow2(alignment))
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a power of two.");
        }
    }
}
