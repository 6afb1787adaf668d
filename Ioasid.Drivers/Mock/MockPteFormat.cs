using System.Runtime.CompilerServices;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// The mock IOMMU's page-table format: what the mock driver writes (<see cref="MockPageTable"/>) and what the mock
/// hardware walks (<see cref="Hardware.Mock.MockIommuHardware"/>). The two sides share only these constants.
/// </summary>
/// <remarks>
/// <para>
/// A radix tree of 4 KiB table pages, each 512 little-endian <c>u64</c> entries, translating a 48-bit IOVA in four
/// levels. The root is level 4; level <c>n</c> is indexed by IOVA bits <c>[12 + 9n - 1 : 12 + 9(n - 1)]</c>:
/// </para>
/// <list type="table">
/// <listheader><term>Level</term><description>IOVA bits indexing it; what a present entry is</description></listheader>
/// <item><term>4 (root)</term><description>47:39; always a table entry (512 GiB each)</description></item>
/// <item><term>3</term><description>38:30; always a table entry (1 GiB each)</description></item>
/// <item><term>2</term><description>29:21; a table entry, or a 2 MiB leaf when <c>PS</c> is set</description></item>
/// <item><term>1</term><description>20:12; always a 4 KiB leaf</description></item>
/// </list>
/// <para>Every entry, table or leaf, has this layout:</para>
/// <list type="table">
/// <listheader><term>Bits</term><description>Field and meaning</description></listheader>
/// <item><term>0</term><description><c>P</c> (<see cref="Present"/>): the entry is valid. With <c>P</c> = 0 the hardware ignores every other bit (not-present fault).</description></item>
/// <item><term>1</term><description><c>R</c> (<see cref="Read"/>): reads allowed. ANDed across levels; the driver sets it in every table entry.</description></item>
/// <item><term>2</term><description><c>W</c> (<see cref="Write"/>): writes allowed. ANDed across levels; the driver sets it in every table entry.</description></item>
/// <item><term>3–5</term><description>reserved, must be 0 (<see cref="ReservedLowMask"/>).</description></item>
/// <item><term>6</term><description><c>D</c> (<see cref="Dirty"/>): in a leaf, set by the hardware when a DMA write goes through it while the context entry enables dirty tracking; cleared by the driver's <c>read_and_clear_dirty</c>. Ignored in table entries.</description></item>
/// <item><term>7</term><description><c>PS</c> (<see cref="PageSizeBit"/>): at level 2 the entry is a 2 MiB leaf; must be 0 at levels 4, 3 and 1.</description></item>
/// <item><term>8–11</term><description>reserved, must be 0 (<see cref="ReservedLowMask"/>).</description></item>
/// <item><term>12–51</term><description><c>ADDR</c> (<see cref="AddressMask"/>): physical address bits 51:12 of the next table page, the 4 KiB frame, or the 2 MiB block (whose bits 20:12 must then be 0).</description></item>
/// <item><term>52–61</term><description><c>SWCNT</c> (<see cref="SoftwareCountMask"/>): ignored by the hardware. The mock driver keeps, in a table entry, the number of present entries of the table it points to, so an emptied table is found without a scan. 0 in leaves.</description></item>
/// <item><term>62–63</term><description>ignored by the hardware, available to software (<see cref="SoftwareMask"/> covers 52–63).</description></item>
/// </list>
/// <para>
/// An entry with <c>P</c> = 1 and a reserved bit set (including <c>PS</c> where it is not allowed, or a misaligned
/// 2 MiB address) is malformed: the hardware reports an invalid-entry fault rather than guessing.
/// </para>
/// <para>
/// The page sizes are 4 KiB and 2 MiB (<see cref="PageSizeBitmap"/>). The kernel's iommufd selftest mock domain
/// differs: it keeps IOPTEs in an xarray with 2 KiB pages (<c>PAGE_SIZE / 2</c>); this format keeps the
/// simulated platform's 4 KiB table pages and the usual radix walk so that hardware modelling (walks, IOTLB,
/// stale entries, table freeing) is exercised the way it is on real IOMMUs.
/// </para>
/// </remarks>
public static class MockPteFormat
{
    /// <summary>Number of levels of the radix tree.</summary>
    public const int Levels = 4;

    /// <summary>The level of the root table.</summary>
    public const int RootLevel = Levels;

    /// <summary>IOVA bits translated: 48 (IOVAs at or above 2^48 are out of range).</summary>
    public const int InputBits = 48;

    /// <summary>The exclusive upper bound of translatable IOVAs: 2^48.</summary>
    public const ulong InputLimit = 1UL << InputBits;

    /// <summary>Physical address bits an entry can hold: 52.</summary>
    public const int OutputBits = 52;

    /// <summary>log2 of the entries per table: 9 (512 entries).</summary>
    public const int IndexBits = 9;

    /// <summary>Entries per table page: 512.</summary>
    public const int EntriesPerTable = 1 << IndexBits;

    /// <summary>Mask of a table index.</summary>
    public const ulong IndexMask = EntriesPerTable - 1;

    /// <summary>log2 of the 4 KiB page: 12.</summary>
    public const int PageShift4K = 12;

    /// <summary>log2 of the 2 MiB page: 21.</summary>
    public const int PageShift2M = 21;

    /// <summary>The 4 KiB page size.</summary>
    public const ulong PageSize4K = 1UL << PageShift4K;

    /// <summary>The 2 MiB page size (a level-2 leaf).</summary>
    public const ulong PageSize2M = 1UL << PageShift2M;

    /// <summary>The page sizes the format can map, one bit per size: 4 KiB | 2 MiB.</summary>
    public const ulong PageSizeBitmap = PageSize4K | PageSize2M;

    /// <summary>Bit 0, <c>P</c>: the entry is present.</summary>
    public const ulong Present = 1UL << 0;

    /// <summary>Bit 1, <c>R</c>: reads allowed (ANDed across levels).</summary>
    public const ulong Read = 1UL << 1;

    /// <summary>Bit 2, <c>W</c>: writes allowed (ANDed across levels).</summary>
    public const ulong Write = 1UL << 2;

    /// <summary>Bit 6, <c>D</c>: in a leaf, written by the hardware on a DMA write while dirty tracking is on.</summary>
    public const ulong Dirty = 1UL << 6;
    /// <summary>Bit 7, <c>PS</c>: a leaf at level 2 (2 MiB); reserved at every other level.</summary>
    public const ulong PageSizeBit = 1UL << 7;

    /// <summary>Bits 3–5 and 8–11: reserved, must be 0 in a present entry.</summary>
    public const ulong ReservedLowMask = 0x0000_0000_0000_0F38UL;

    /// <summary>Bits 12–51, <c>ADDR</c>: the output or next-table address.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Bits 12–20: must be 0 in a 2 MiB leaf (the block is 2 MiB aligned).</summary>
    public const ulong HugeAddressLowMask = 0x0000_0000_001F_F000UL;

    /// <summary>Bit position of <c>SWCNT</c>.</summary>
    public const int SoftwareCountShift = 52;

    /// <summary>Bits 52–61, <c>SWCNT</c>: the driver's count of present entries in the next-level table; ignored by hardware.</summary>
    public const ulong SoftwareCountMask = 0x3FFUL << SoftwareCountShift;

    /// <summary>Bits 52–63: ignored by hardware.</summary>
    public const ulong SoftwareMask = 0xFFF0_0000_0000_0000UL;

    /// <summary>The IOVA shift of the entries of level <paramref name="level"/> (1 → 12, 2 → 21, 3 → 30, 4 → 39).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LevelShift(int level) => PageShift4K + (IndexBits * (level - 1));

    /// <summary>The index into a level-<paramref name="level"/> table of <paramref name="iova"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(ulong iova, int level) => (int)((iova >> LevelShift(level)) & IndexMask);

    /// <summary>A table entry pointing at <paramref name="table"/>: <c>P | R | W | ADDR</c>, <c>SWCNT</c> = <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EncodeTable(PhysAddr table, int count = 0) =>
        (table.Value & AddressMask) | Present | Read | Write | ((ulong)count << SoftwareCountShift);

    /// <summary>A 4 KiB leaf for frame <paramref name="frame"/> with <paramref name="permissions"/> (<see cref="Read"/> and/or <see cref="Write"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EncodeLeaf4K(PhysAddr frame, ulong permissions) =>
        (frame.Value & AddressMask) | Present | (permissions & (Read | Write));

    /// <summary>A 2 MiB leaf (level 2, <c>PS</c> set) for the block at <paramref name="block"/> with <paramref name="permissions"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EncodeLeaf2M(PhysAddr block, ulong permissions) =>
        (block.Value & AddressMask & ~HugeAddressLowMask) | Present | PageSizeBit | (permissions & (Read | Write));

    /// <summary>Whether <c>P</c> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPresent(ulong entry) => (entry & Present) != 0;

    /// <summary>The <c>ADDR</c> field as an address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PhysAddr Address(ulong entry) => new(entry & AddressMask);

    /// <summary>The <c>SWCNT</c> field of a table entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SoftwareCount(ulong entry) => (int)((entry & SoftwareCountMask) >> SoftwareCountShift);

    /// <summary>
    /// Whether a present entry at <paramref name="level"/> is malformed: reserved bits set, <c>PS</c> outside level 2,
    /// or a 2 MiB leaf whose address is not 2 MiB aligned.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsMalformed(ulong entry, int level)
    {
        if ((entry & ReservedLowMask) != 0)
        {
            return true;
        }

        if ((entry & PageSizeBit) == 0)
        {
            return false;
        }

        return level != 2 || (entry & HugeAddressLowMask) != 0;
    }

    /// <summary>Whether a present, well-formed entry at <paramref name="level"/> is a leaf (level 1, or level 2 with <c>PS</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsLeaf(ulong entry, int level) => level == 1 || (entry & PageSizeBit) != 0;
}

/// <summary>A decoded view of one <see cref="MockPteFormat"/> entry, for inspection and tests.</summary>
/// <param name="Value">The raw 64-bit entry.</param>
public readonly record struct MockPte(ulong Value)
{
    /// <summary><c>P</c>: the entry is present.</summary>
    public bool IsPresent => (Value & MockPteFormat.Present) != 0;

    /// <summary><c>R</c>: reads allowed.</summary>
    public bool CanRead => (Value & MockPteFormat.Read) != 0;

    /// <summary><c>W</c>: writes allowed.</summary>
    public bool CanWrite => (Value & MockPteFormat.Write) != 0;

    /// <summary><c>PS</c>: a 2 MiB leaf (meaningful at level 2 only).</summary>
    public bool IsHuge => (Value & MockPteFormat.PageSizeBit) != 0;

    /// <summary><c>D</c>: a DMA write went through this leaf while dirty tracking was on.</summary>
    public bool IsDirty => (Value & MockPteFormat.Dirty) != 0;

    /// <summary><c>ADDR</c>: the output frame, block or next table.</summary>
    public PhysAddr Address => MockPteFormat.Address(Value);

    /// <summary><c>SWCNT</c>: the driver's count of present entries in the next-level table.</summary>
    public int SoftwareCount => MockPteFormat.SoftwareCount(Value);

    /// <inheritdoc />
    public override string ToString() =>
        IsPresent
            ? $"0x{Value:X16} (P{(CanRead ? " R" : string.Empty)}{(CanWrite ? " W" : string.Empty)}{(IsHuge ? " PS" : string.Empty)} {Address} cnt={SoftwareCount})"
            : $"0x{Value:X16} (not present)";
}
