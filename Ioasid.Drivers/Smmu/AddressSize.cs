using System;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The 3-bit physical/intermediate address size encoding shared by IDR5.OAS, CD.IPS and STE.S2PS:
/// 0 = 32 bits, 1 = 36, 2 = 40, 3 = 42, 4 = 44, 5 = 48, 6 = 52.
/// </summary>
public static class AddressSize
{
    /// <summary>The number of address bits for an encoding (values above 6 are treated as 52, as the architecture caps them).</summary>
    public static int ToBits(ulong encoding) => encoding switch
    {
        0 => 32,
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        _ => 52,
    };

    /// <summary>The encoding of <paramref name="bits"/> (32, 36, 40, 42, 44, 48 or 52).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No encoding has that size.</exception>
    public static ulong FromBits(int bits) => bits switch
    {
        32 => 0,
        36 => 1,
        40 => 2,
        42 => 3,
        44 => 4,
        48 => 5,
        52 => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(bits), bits, "Not an SMMUv3 address size."),
    };
}
