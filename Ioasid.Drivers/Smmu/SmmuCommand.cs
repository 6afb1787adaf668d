using System;
using System.Buffers.Binary;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// One 16-byte command-queue entry (two little-endian qwords) with named field accessors and builders for the
/// commands the driver issues (drivers.md §3.7). Fields: opcode qw0[7:0]; TLBI NUM qw0[16:12], SCALE qw0[24:20],
/// VMID qw0[47:32], ASID qw0[63:48], Leaf qw1[0], TTL qw1[9:8], TG qw1[11:10], address qw1[63:12]; CFGI SID
/// qw0[63:32], SSID qw0[31:12], Leaf qw1[0], Range qw1[4:0]; ATC_INV SSV qw0[11], Global qw1[0], Size qw1[5:0];
/// CMD_SYNC CS qw0[13:12], MSIData qw0[63:32], MSIAddress qw1[51:2].
/// </summary>
public readonly record struct SmmuCommand(ulong Qw0, ulong Qw1)
{
    /// <summary>Size of a command in bytes.</summary>
    public const int Size = 16;

    /// <summary>CMD_SYNC CS value: no completion signal.</summary>
    public const ulong SyncCsNone = 0;

    /// <summary>CMD_SYNC CS value: signal with an MSI write (Linux polls the written word).</summary>
    public const ulong SyncCsIrq = 1;

    /// <summary>CMD_SYNC CS value: signal with SEV.</summary>
    public const ulong SyncCsSev = 2;

    /// <summary>The opcode.</summary>
    public SmmuOpcode Opcode => (SmmuOpcode)(Qw0 & 0xFF);

    /// <summary>StreamID, qw0[63:32] (CFGI, ATC_INV, PRI_RESP, RESUME).</summary>
    public uint Sid => (uint)(Qw0 >> 32);

    /// <summary>SubstreamID, qw0[31:12] (CFGI_CD, ATC_INV).</summary>
    public uint Ssid => (uint)BitField.Get(Qw0, 12, 20);

    /// <summary>SSV, qw0[11] (ATC_INV): the SubstreamID is valid.</summary>
    public bool Ssv => BitField.Bit(Qw0, 11);

    /// <summary>VMID, qw0[47:32] (TLBI).</summary>
    public ushort Vmid => (ushort)BitField.Get(Qw0, 32, 16);

    /// <summary>ASID, qw0[63:48] (TLBI).</summary>
    public ushort Asid => (ushort)BitField.Get(Qw0, 48, 16);

    /// <summary>NUM, qw0[16:12] (range TLBI).</summary>
    public int Num => (int)BitField.Get(Qw0, 12, 5);

    /// <summary>SCALE, qw0[24:20] (range TLBI).</summary>
    public int Scale => (int)BitField.Get(Qw0, 20, 5);

    /// <summary>Leaf, qw1[0] (TLBI, CFGI_STE, CFGI_CD); Global for ATC_INV.</summary>
    public bool Leaf => BitField.Bit(Qw1, 0);

    /// <summary>TTL, qw1[9:8] (TLBI): the level of the leaf, 0 = unknown.</summary>
    public int Ttl => (int)BitField.Get(Qw1, 8, 2);

    /// <summary>TG, qw1[11:10] (TLBI): 0 = a single address, else the range granule.</summary>
    public ulong Tg => BitField.Get(Qw1, 10, 2);

    /// <summary>Address, qw1[63:12] (TLBI_NH_VA/VAA; TLBI_S2_IPA uses bits [51:12]; ATC_INV).</summary>
    public ulong Address => Opcode == SmmuOpcode.TlbiS2Ipa ? Qw1 & BitField.Mask(12, 40) : Qw1 & BitField.Mask(12, 52);

    /// <summary>Range, qw1[4:0] (CFGI_STE_RANGE): 2^(Range + 1) StreamIDs.</summary>
    public int Range => (int)BitField.Get(Qw1, 0, 5);

    /// <summary>Size, qw1[5:0] (ATC_INV): log2 of the span in 4 KiB pages.</summary>
    public int AtcSize => (int)BitField.Get(Qw1, 0, 6);

    /// <summary>CS, qw0[13:12] (CMD_SYNC).</summary>
    public ulong SyncCs => BitField.Get(Qw0, 12, 2);

    /// <summary>MSIData, qw0[63:32] (CMD_SYNC).</summary>
    public uint SyncMsiData => (uint)(Qw0 >> 32);

    /// <summary>MSIAddress, qw1[51:2] (CMD_SYNC).</summary>
    public PhysAddr SyncMsiAddress => new(Qw1 & BitField.Mask(2, 50));

    /// <summary>CFGI_STE for <paramref name="sid"/>; <paramref name="leaf"/> = only the STE, not the L1 descriptor.</summary>
    public static SmmuCommand CfgiSte(uint sid, bool leaf = true) => new(Op(SmmuOpcode.CfgiSte) | ((ulong)sid << 32), leaf ? 1UL : 0);

    /// <summary>CFGI_ALL: CFGI_STE_RANGE with Range = 31.</summary>
    public static SmmuCommand CfgiAll() => new(Op(SmmuOpcode.CfgiSteRange), 31);

    /// <summary>CFGI_CD for (<paramref name="sid"/>, <paramref name="ssid"/>).</summary>
    public static SmmuCommand CfgiCd(uint sid, uint ssid, bool leaf = true) =>
        new(Op(SmmuOpcode.CfgiCd) | BitField.Set(0, 12, 20, ssid) | ((ulong)sid << 32), leaf ? 1UL : 0);

    /// <summary>CFGI_CD_ALL for <paramref name="sid"/>.</summary>
    public static SmmuCommand CfgiCdAll(uint sid) => new(Op(SmmuOpcode.CfgiCdAll) | ((ulong)sid << 32), 0);

    /// <summary>TLBI_NH_ASID for (<paramref name="vmid"/>, <paramref name="asid"/>).</summary>
    public static SmmuCommand TlbiNhAsid(ushort vmid, ushort asid) => new(Op(SmmuOpcode.TlbiNhAsid) | Tags(vmid, asid), 0);

    /// <summary>TLBI_NH_ALL for <paramref name="vmid"/>.</summary>
    public static SmmuCommand TlbiNhAll(ushort vmid) => new(Op(SmmuOpcode.TlbiNhAll) | Tags(vmid, 0), 0);

    /// <summary>TLBI_S12_VMALL for <paramref name="vmid"/>.</summary>
    public static SmmuCommand TlbiS12Vmall(ushort vmid) => new(Op(SmmuOpcode.TlbiS12Vmall) | Tags(vmid, 0), 0);

    /// <summary>TLBI_NSNH_ALL.</summary>
    public static SmmuCommand TlbiNsnhAll() => new(Op(SmmuOpcode.TlbiNsnhAll), 0);

    /// <summary>
    /// TLBI_NH_VA for (<paramref name="vmid"/>, <paramref name="asid"/>) at <paramref name="address"/>: a single
    /// address when <paramref name="tg"/> is 0, else the range of (<paramref name="num"/> + 1) · 2^<paramref name="scale"/>
    /// pages of that granule (TG encoding of <see cref="Granules.TlbiEncoding"/>).
    /// </summary>
    public static SmmuCommand TlbiNhVa(ushort vmid, ushort asid, ulong address, bool leaf, ulong tg = 0, int num = 0, int scale = 0, int ttl = 0) =>
        Tlbi(SmmuOpcode.TlbiNhVa, Tags(vmid, asid), address & BitField.Mask(12, 52), leaf, tg, num, scale, ttl);

    /// <summary>TLBI_NH_VAA: like <see cref="TlbiNhVa"/> for any ASID of <paramref name="vmid"/>.</summary>
    public static SmmuCommand TlbiNhVaa(ushort vmid, ulong address, bool leaf, ulong tg = 0, int num = 0, int scale = 0, int ttl = 0) =>
        Tlbi(SmmuOpcode.TlbiNhVaa, Tags(vmid, 0), address & BitField.Mask(12, 52), leaf, tg, num, scale, ttl);

    /// <summary>TLBI_S2_IPA for <paramref name="vmid"/> at <paramref name="ipa"/> (range fields as <see cref="TlbiNhVa"/>).</summary>
    public static SmmuCommand TlbiS2Ipa(ushort vmid, ulong ipa, bool leaf, ulong tg = 0, int num = 0, int scale = 0, int ttl = 0) =>
        Tlbi(SmmuOpcode.TlbiS2Ipa, Tags(vmid, 0), ipa & BitField.Mask(12, 40), leaf, tg, num, scale, ttl);

    /// <summary>ATC_INV of <paramref name="sid"/> (SSID when <paramref name="ssid"/> is given), span 2^<paramref name="size"/> pages at <paramref name="address"/>.</summary>
    public static SmmuCommand AtcInv(uint sid, uint? ssid, ulong address, int size) =>
        new(Op(SmmuOpcode.AtcInv) | (ssid is { } s ? (1UL << 11) | BitField.Set(0, 12, 20, s) : 0) | ((ulong)sid << 32),
            (address & BitField.Mask(12, 52)) | (uint)(size & 0x3F));

    /// <summary>CMD_SYNC; with an <paramref name="msiAddress"/> it signals by writing <paramref name="msiData"/> there (CS = IRQ).</summary>
    public static SmmuCommand CmdSync(PhysAddr msiAddress = default, uint msiData = 0) =>
        msiAddress.Value == 0
            ? new(Op(SmmuOpcode.CmdSync), 0)
            : new(Op(SmmuOpcode.CmdSync) | (SyncCsIrq << 12) | ((ulong)msiData << 32), msiAddress.Value & BitField.Mask(2, 50));

    /// <summary>Reads a command from its 16 little-endian bytes.</summary>
    public static SmmuCommand FromBytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));

    /// <inheritdoc />
    public override string ToString() => $"{Opcode} {Qw0:x16} {Qw1:x16}";

    private static ulong Op(SmmuOpcode opcode) => (ulong)opcode;

    private static ulong Tags(ushort vmid, ushort asid) => ((ulong)vmid << 32) | ((ulong)asid << 48);

    private static SmmuCommand Tlbi(SmmuOpcode opcode, ulong tags, ulong address, bool leaf, ulong tg, int num, int scale, int ttl) =>
        new(Op(opcode) | tags | BitField.Set(0, 12, 5, (ulong)num) | BitField.Set(0, 20, 5, (ulong)scale),
            address | (leaf ? 1UL : 0) | BitField.Set(0, 8, 2, (ulong)ttl) | BitField.Set(0, 10, 2, tg));
}
