using System;
using System.Buffers.Binary;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// <c>struct iommu_hw_info_vtd</c> (IOMMU_HW_INFO_TYPE_INTEL_VTD = 1; iommufd.md): 24 bytes, <c>flags u32 @0</c>
/// (ERRATA_772415_SPR17 = 1), <c>__reserved u32 @4</c>, <c>cap_reg u64 @8</c>, <c>ecap_reg u64 @16</c> (raw registers).
/// </summary>
/// <param name="Flags">The flags.</param>
/// <param name="Cap">CAP.</param>
/// <param name="Ecap">ECAP.</param>
public readonly record struct VtdHwInfo(uint Flags, ulong Cap, ulong Ecap)
{
    /// <summary>The struct size.</summary>
    public const int Size = 24;

    /// <summary>IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: no read-only mappings in a nest parent.</summary>
    public const uint Errata772415 = 1;

    /// <summary>Encodes the blob.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), Cap);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), Ecap);
        return bytes;
    }

    /// <summary>Decodes a blob.</summary>
    /// <exception cref="ArgumentException">Shorter than 24 bytes.</exception>
    public static VtdHwInfo Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException("iommu_hw_info_vtd is 24 bytes", nameof(bytes));
        }

        return new VtdHwInfo(BinaryPrimitives.ReadUInt32LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]));
    }
}
