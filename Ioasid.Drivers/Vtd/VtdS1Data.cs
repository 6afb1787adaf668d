using System;
using System.Buffers.Binary;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// <c>struct iommu_hwpt_vtd_s1</c> (IOMMU_HWPT_DATA_VTD_S1 = 1; iommufd.md): the user's stage-1 configuration for a
/// nested domain. 24 bytes: <c>flags u64 @0</c> (SRE 1, EAFE 2, WPE 4), <c>pgtbl_addr u64 @8</c> (the first-stage
/// root, a stage-2 input address), <c>addr_width u32 @16</c> (48 or 57), <c>__reserved u32 @20</c>.
/// </summary>
/// <param name="Flags">The flags.</param>
/// <param name="PageTableAddress">The stage-1 root.</param>
/// <param name="AddressWidth">48 or 57.</param>
public readonly record struct VtdS1Data(ulong Flags, ulong PageTableAddress, uint AddressWidth)
{
    /// <summary>IOMMU_HWPT_DATA_VTD_S1.</summary>
    public const uint DataType = 1;

    /// <summary>The struct size.</summary>
    public const int Size = 24;

    /// <summary>IOMMU_VTD_S1_SRE: supervisor requests.</summary>
    public const ulong SupervisorRequests = 1;

    /// <summary>IOMMU_VTD_S1_EAFE: extended accessed flag.</summary>
    public const ulong ExtendedAccessed = 2;

    /// <summary>IOMMU_VTD_S1_WPE: write protect.</summary>
    public const ulong WriteProtect = 4;

    /// <summary>Encodes the struct as the user passes it.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), PageTableAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), AddressWidth);
        return bytes;
    }

    /// <summary>
    /// Decodes and checks user data as the kernel does: shorter than the struct → EINVAL; unknown flags or a non-zero
    /// reserved field → EOPNOTSUPP; an address width other than 48/57, or a misaligned root → EINVAL.
    /// </summary>
    public static Errno TryParse(ReadOnlySpan<byte> data, out VtdS1Data s1)
    {
        s1 = default;
        if (data.Length < Size)
        {
            return Errno.EINVAL;
        }

        s1 = new VtdS1Data(BinaryPrimitives.ReadUInt64LittleEndian(data), BinaryPrimitives.ReadUInt64LittleEndian(data[8..]), BinaryPrimitives.ReadUInt32LittleEndian(data[16..]));
        if ((s1.Flags & ~(SupervisorRequests | ExtendedAccessed | WriteProtect)) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(data[20..]) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        return s1.AddressWidth is 48 or 57 && (s1.PageTableAddress & 0xFFF) == 0 ? Errno.None : Errno.EINVAL;
    }
}

/// <summary>
/// <c>struct iommu_hwpt_vtd_s1_invalidate</c> (invalidation data type VTD_S1 = 0): 24 bytes, <c>addr u64 @0</c>
/// (4 KiB aligned), <c>npages u64 @8</c>, <c>flags u32 @16</c> (LEAF = 1), <c>__reserved u32 @20</c>. addr 0 with
/// npages U64_MAX means everything.
/// </summary>
/// <param name="Address">The first address.</param>
/// <param name="Pages">How many 4 KiB pages.</param>
/// <param name="Flags">LEAF.</param>
public readonly record struct VtdS1Invalidation(ulong Address, ulong Pages, uint Flags)
{
    /// <summary>IOMMU_HWPT_INVALIDATE_DATA_VTD_S1.</summary>
    public const uint DataType = 0;

    /// <summary>The struct size.</summary>
    public const int Size = 24;

    /// <summary>IOMMU_VTD_INV_FLAGS_LEAF: only leaf entries changed.</summary>
    public const uint Leaf = 1;

    /// <summary>Whether this entry asks for everything.</summary>
    public bool All => Address == 0 && Pages == ulong.MaxValue;

    /// <summary>Encodes the entry.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Address);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), Pages);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), Flags);
        return bytes;
    }

    /// <summary>Decodes one entry: unknown flags or reserved bits → EOPNOTSUPP; a misaligned address or zero pages → EINVAL.</summary>
    public static Errno TryParse(ReadOnlySpan<byte> entry, out VtdS1Invalidation invalidation)
    {
        invalidation = new VtdS1Invalidation(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]));
        if ((invalidation.Flags & ~Leaf) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        return (invalidation.Address & 0xFFF) != 0 || invalidation.Pages == 0 ? Errno.EINVAL : Errno.None;
    }
}
