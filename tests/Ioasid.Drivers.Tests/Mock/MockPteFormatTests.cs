using Ioasid.Drivers.Mock;
using F = Ioasid.Drivers.Mock.MockPteFormat;

namespace Ioasid.Drivers.Tests.Mock;

public class MockPteFormatTests
{
    [Fact]
    public void Field_masks_are_the_documented_bits()
    {
        Assert.Equal(0x1UL, F.Present);
        Assert.Equal(0x2UL, F.Read);
        Assert.Equal(0x4UL, F.Write);
        Assert.Equal(0x40UL, F.Dirty);
        Assert.Equal(0x80UL, F.PageSizeBit);
        Assert.Equal(0b1111_0011_1000UL, F.ReservedLowMask); // bits 3-5 and 8-11
        Assert.Equal(((1UL << 52) - 1) & ~0xFFFUL, F.AddressMask);
        Assert.Equal(0x3FFUL << 52, F.SoftwareCountMask);
        Assert.Equal(~((1UL << 52) - 1), F.SoftwareMask);
        Assert.Equal(0x1FF000UL, F.HugeAddressLowMask);
        Assert.Equal((1UL << 12) | (1UL << 21), F.PageSizeBitmap);

        // The fields partition the 64 bits.
        ulong all = F.Present | F.Read | F.Write | F.Dirty | F.PageSizeBit | F.ReservedLowMask | F.AddressMask | F.SoftwareMask;
        Assert.Equal(ulong.MaxValue, all);
        Assert.Equal(0UL, F.ReservedLowMask & (F.Present | F.Read | F.Write | F.Dirty | F.PageSizeBit | F.AddressMask));
    }

    [Fact]
    public void Encodings_match_hand_computed_values()
    {
        // 4 KiB leaf, read+write, frame 0x12345000: ADDR | W | R | P.
        Assert.Equal(0x0000_0000_1234_5007UL, F.EncodeLeaf4K(new PhysAddr(0x1234_5000), F.Read | F.Write));
        // Read-only leaf at the top of the 52-bit output space.
        Assert.Equal(0x000F_FFFF_FFFF_F003UL, F.EncodeLeaf4K(new PhysAddr(0x000F_FFFF_FFFF_F000), F.Read));
        // Write-only leaf; permission bits outside R/W are dropped.
        Assert.Equal(0x0000_0000_0000_9005UL, F.EncodeLeaf4K(new PhysAddr(0x9000), F.Write | F.PageSizeBit));
        // 2 MiB leaf, read-only, block 0x40200000: ADDR | PS | R | P.
        Assert.Equal(0x0000_0000_4020_0083UL, F.EncodeLeaf2M(new PhysAddr(0x4020_0000), F.Read));
        // Table entry at 0x5000 with SWCNT = 3: 3 << 52 | ADDR | W | R | P.
        Assert.Equal(0x0030_0000_0000_5007UL, F.EncodeTable(new PhysAddr(0x5000), 3));
        Assert.Equal(0x2000_0000_0000_5007UL, F.EncodeTable(new PhysAddr(0x5000), 512));
    }

    [Fact]
    public void Levels_index_the_documented_iova_bits()
    {
        Assert.Equal(12, F.LevelShift(1));
        Assert.Equal(21, F.LevelShift(2));
        Assert.Equal(30, F.LevelShift(3));
        Assert.Equal(39, F.LevelShift(4));

        const ulong iova = (0x1AUL << 39) | (0x0BCUL << 30) | (0x1DEUL << 21) | (0x0F0UL << 12) | 0x123;
        Assert.Equal(0x1A, F.Index(iova, 4));
        Assert.Equal(0x0BC, F.Index(iova, 3));
        Assert.Equal(0x1DE, F.Index(iova, 2));
        Assert.Equal(0x0F0, F.Index(iova, 1));
        Assert.Equal(511, F.Index(F.InputLimit - 1, 4));
    }

    [Fact]
    public void Malformed_entries_are_recognised()
    {
        ulong leaf = F.EncodeLeaf4K(new PhysAddr(0x1000), F.Read);
        Assert.False(F.IsMalformed(leaf, 1));
        Assert.True(F.IsMalformed(leaf | (1UL << 3), 1));
        Assert.True(F.IsMalformed(leaf | (1UL << 11), 1));
        Assert.True(F.IsMalformed(leaf | F.PageSizeBit, 1)); // PS at level 1
        Assert.False(F.IsMalformed(leaf | (1UL << 63) | (1UL << 52), 1)); // software bits are ignored

        ulong huge = F.EncodeLeaf2M(new PhysAddr(0x20_0000), F.Read);
        Assert.False(F.IsMalformed(huge, 2));
        Assert.True(F.IsLeaf(huge, 2));
        Assert.True(F.IsMalformed(huge, 3)); // PS at level 3 (no 1 GiB pages)
        Assert.True(F.IsMalformed(huge, 4));
        Assert.True(F.IsMalformed(huge | 0x1000, 2)); // 2 MiB block not 2 MiB aligned

        ulong table = F.EncodeTable(new PhysAddr(0x3000), 7);
        Assert.False(F.IsMalformed(table, 3));
        Assert.False(F.IsLeaf(table, 3));
        Assert.True(F.IsLeaf(table, 1));
    }

    [Fact]
    public void MockPte_decodes_fields()
    {
        var pte = new MockPte(F.EncodeTable(new PhysAddr(0xABC000), 17));
        Assert.True(pte.IsPresent);
        Assert.True(pte.CanRead);
        Assert.True(pte.CanWrite);
        Assert.False(pte.IsHuge);
        Assert.Equal(new PhysAddr(0xABC000), pte.Address);
        Assert.Equal(17, pte.SoftwareCount);

        var huge = new MockPte(F.EncodeLeaf2M(new PhysAddr(0x4000_0000), F.Write));
        Assert.True(huge.IsHuge);
        Assert.False(huge.CanRead);
        Assert.True(huge.CanWrite);
        Assert.Contains("PS", huge.ToString());
        Assert.Contains("not present", new MockPte(0).ToString());
    }
}
