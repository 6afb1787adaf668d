namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The level-1 descriptors of the two-level tables: a stream-table descriptor (STD: Span [4:0], L2Ptr [51:6]) and a
/// CD-table descriptor (L1CD: V [0], L2Ptr [51:12]); 8 bytes each (drivers.md §3.3, §3.5).
/// </summary>
public static class TableDescriptors
{
    /// <summary>Size of an L1 descriptor in bytes.</summary>
    public const int Size = 8;

    /// <summary>An L1 STD pointing at <paramref name="l2Table"/> holding 2^(<paramref name="span"/> − 1) STEs.</summary>
    public static ulong EncodeStd(PhysAddr l2Table, int span) => (l2Table.Value & BitField.Mask(6, 46)) | (uint)(span & 0x1F);

    /// <summary>The Span field of an L1 STD (0 = no L2 table).</summary>
    public static int StdSpan(ulong std) => (int)(std & 0x1F);

    /// <summary>The L2Ptr field of an L1 STD.</summary>
    public static PhysAddr StdL2Ptr(ulong std) => new(std & BitField.Mask(6, 46));

    /// <summary>An L1 CD descriptor pointing at <paramref name="l2Table"/> (V = 1).</summary>
    public static ulong EncodeL1Cd(PhysAddr l2Table) => (l2Table.Value & BitField.Mask(12, 40)) | 1;

    /// <summary>The V bit of an L1 CD descriptor.</summary>
    public static bool L1CdValid(ulong l1cd) => (l1cd & 1) != 0;

    /// <summary>The L2Ptr field of an L1 CD descriptor.</summary>
    public static PhysAddr L1CdL2Ptr(ulong l1cd) => new(l1cd & BitField.Mask(12, 40));
}
