using System;
using System.Buffers.Binary;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// <c>struct iommu_hw_info_arm_smmuv3</c> (40 bytes, IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2): flags u32 @0, reserved u32
/// @4, idr[6] u32 @8, iidr u32 @32, aidr u32 @36, all little-endian.
/// </summary>
public static class SmmuHwInfo
{
    /// <summary>IOMMU_HW_INFO_TYPE_ARM_SMMUV3.</summary>
    public const uint Type = 2;

    /// <summary>The struct's size.</summary>
    public const int Size = 40;

    /// <summary>Encodes the struct.</summary>
    public static byte[] Encode(ReadOnlySpan<uint> idr, uint iidr, uint aidr)
    {
        var bytes = new byte[Size];
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8 + (4 * i)), idr[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), iidr);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(36), aidr);
        return bytes;
    }
}
