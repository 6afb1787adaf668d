namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>The type field (<c>qw0[3:0]</c>) of a queued-invalidation descriptor (drivers.md §2.11).</summary>
public enum InvalidationDescriptorType : byte
{
    /// <summary>1: context-cache invalidation.</summary>
    ContextCache = 1,

    /// <summary>2: IOTLB invalidation (global, domain-selective, page-selective).</summary>
    Iotlb = 2,

    /// <summary>3: device-TLB (ATS) invalidation.</summary>
    DeviceTlb = 3,

    /// <summary>4: interrupt-entry cache (out of scope; rejected).</summary>
    InterruptEntryCache = 4,

    /// <summary>5: invalidation wait.</summary>
    Wait = 5,

    /// <summary>6: PASID-based IOTLB invalidation (first-stage and nested entries).</summary>
    PasidIotlb = 6,

    /// <summary>7: PASID-cache invalidation.</summary>
    PasidCache = 7,

    /// <summary>8: PASID-based device-TLB invalidation.</summary>
    PasidDeviceTlb = 8,
}

/// <summary>
/// One queued-invalidation descriptor: 128 bits, or 256 when IQA.DW = 1 (then <c>qw2</c>/<c>qw3</c> must be zero for
/// every type modelled). Factory methods encode the fields of drivers.md §2.11; accessors decode them.
/// </summary>
/// <param name="Q0">Bits 63:0.</param>
/// <param name="Q1">Bits 127:64.</param>
/// <param name="Q2">Bits 191:128 (256-bit descriptors only).</param>
/// <param name="Q3">Bits 255:192 (256-bit descriptors only).</param>
public readonly record struct InvalidationDescriptor(ulong Q0, ulong Q1, ulong Q2 = 0, ulong Q3 = 0)
{
    /// <summary>Granularity field G: <c>qw0[5:4]</c>.</summary>
    public const int GranularityShift = 4;

    /// <summary>Context-cache / IOTLB granularity 1: global.</summary>
    public const int GlobalGranularity = 1;

    /// <summary>Context-cache / IOTLB granularity 2: domain-selective.</summary>
    public const int DomainGranularity = 2;

    /// <summary>Context-cache granularity 3: device-selective; IOTLB granularity 3: page-selective.</summary>
    public const int SelectiveGranularity = 3;

    /// <summary>PASID-based IOTLB granularity 2: all non-global entries of (DID, PASID).</summary>
    public const int PasidAllGranularity = 2;

    /// <summary>PASID-cache granularity 0: all PASIDs of a DID.</summary>
    public const int PasidCacheDomainGranularity = 0;

    /// <summary>PASID-cache granularity 1: one (DID, PASID).</summary>
    public const int PasidCachePasidGranularity = 1;

    /// <summary>PASID-cache granularity 3: everything.</summary>
    public const int PasidCacheGlobalGranularity = 3;

    /// <summary>IH (invalidation hint: only leaves changed) in <c>qw1</c>: bit 6.</summary>
    public const ulong InvalidationHintBit = 1UL << 6;

    /// <summary>Device-TLB descriptor S (size: the range is encoded ATS-style in ADDR) in <c>qw1</c>: bit 0.</summary>
    public const ulong DeviceTlbSizeBit = 1UL << 0;

    /// <summary>PASID-based device-TLB descriptor S in <c>qw1</c>: bit 11.</summary>
    public const ulong PasidDeviceTlbSizeBit = 1UL << 11;

    /// <summary>PASID-based device-TLB descriptor G (global translations of all PASIDs) in <c>qw1</c>: bit 0.</summary>
    public const ulong PasidDeviceTlbGlobalBit = 1UL << 0;

    /// <summary>Wait descriptor IF (interrupt on completion): bit 4.</summary>
    public const ulong WaitInterruptBit = 1UL << 4;

    /// <summary>Wait descriptor SW (status write): bit 5.</summary>
    public const ulong WaitStatusWriteBit = 1UL << 5;

    /// <summary>Wait descriptor FN (fence): bit 6.</summary>
    public const ulong WaitFenceBit = 1UL << 6;

    /// <summary>The type.</summary>
    public InvalidationDescriptorType Type => (InvalidationDescriptorType)(Q0 & 0xF);

    /// <summary>G.</summary>
    public int Granularity => (int)((Q0 >> GranularityShift) & 3);

    /// <summary>DID: <c>qw0[31:16]</c> for types 1, 2, 6, 7.</summary>
    public ushort DomainId => (ushort)(Q0 >> 16);

    /// <summary>SID: <c>qw0[47:32]</c> for types 1 and 3; <c>qw0[31:16]</c> for type 8.</summary>
    public ushort SourceId => Type == InvalidationDescriptorType.PasidDeviceTlb ? (ushort)(Q0 >> 16) : (ushort)(Q0 >> 32);

    /// <summary>FM (function mask) of a context-cache descriptor: <c>qw0[49:48]</c>.</summary>
    public int FunctionMask => (int)((Q0 >> 48) & 3);

    /// <summary>PASID: <c>qw0[51:32]</c> for types 6, 7, 8.</summary>
    public uint Pasid => (uint)((Q0 >> 32) & 0xFFFFF);

    /// <summary>ADDR: <c>qw1[63:12]</c>.</summary>
    public ulong Address => Q1 & ~0xFFFUL;

    /// <summary>AM (address mask: 2^AM pages): <c>qw1[5:0]</c>.</summary>
    public int AddressMask => (int)(Q1 & 0x3F);

    /// <summary>IH.</summary>
    public bool InvalidationHint => (Q1 & InvalidationHintBit) != 0;

    /// <summary>Wait status data: <c>qw0[63:32]</c>.</summary>
    public uint StatusData => (uint)(Q0 >> 32);

    /// <summary>Wait status address: <c>qw1[63:2]</c>.</summary>
    public ulong StatusAddress => Q1 & ~3UL;

    /// <summary>Context-cache invalidation, global.</summary>
    public static InvalidationDescriptor ContextGlobal() => new(1 | (1UL << GranularityShift), 0);

    /// <summary>Context-cache invalidation of one domain's entries.</summary>
    public static InvalidationDescriptor ContextDomain(ushort domainId) => new(1 | (2UL << GranularityShift) | ((ulong)domainId << 16), 0);

    /// <summary>Context-cache invalidation of one device (<paramref name="functionMask"/> ignores 1–3 low devfn bits).</summary>
    public static InvalidationDescriptor ContextDevice(ushort domainId, ushort sourceId, int functionMask = 0) =>
        new(1 | (3UL << GranularityShift) | ((ulong)domainId << 16) | ((ulong)sourceId << 32) | ((ulong)(functionMask & 3) << 48), 0);

    /// <summary>IOTLB invalidation, global.</summary>
    public static InvalidationDescriptor IotlbGlobal() => new(2 | (1UL << GranularityShift) | (1UL << 6) | (1UL << 7), 0);

    /// <summary>IOTLB invalidation of every entry of a domain (DSI).</summary>
    public static InvalidationDescriptor IotlbDomain(ushort domainId) =>
        new(2 | (2UL << GranularityShift) | (1UL << 6) | (1UL << 7) | ((ulong)domainId << 16), 0);

    /// <summary>Page-selective IOTLB invalidation (PSI) of 2^<paramref name="addressMask"/> pages at <paramref name="address"/>.</summary>
    public static InvalidationDescriptor IotlbPage(ushort domainId, ulong address, int addressMask, bool leafOnly) =>
        new(2 | (3UL << GranularityShift) | (1UL << 6) | (1UL << 7) | ((ulong)domainId << 16),
            (address & ~0xFFFUL) | (leafOnly ? InvalidationHintBit : 0) | (uint)(addressMask & 0x3F));

    /// <summary>Device-TLB invalidation (no PASID) for <paramref name="sourceId"/>; <paramref name="sizeBit"/> is ATS's S bit.</summary>
    public static InvalidationDescriptor DeviceTlb(ushort sourceId, ushort pfsid, int queueDepth, ulong address, bool sizeBit) =>
        new(3 | ((ulong)(pfsid & 0xF) << 12) | ((ulong)(queueDepth & 0x1F) << 16) | ((ulong)sourceId << 32) | ((ulong)(pfsid >> 4) << 52),
            (address & ~0xFFFUL) | (sizeBit ? 1UL : 0));

    /// <summary>An invalidation wait; with <paramref name="statusWrite"/> the hardware writes <paramref name="statusData"/> to <paramref name="statusAddress"/> when all earlier descriptors are done.</summary>
    public static InvalidationDescriptor Wait(uint statusData, PhysAddr statusAddress, bool statusWrite = true, bool interrupt = false, bool fence = true) =>
        new(5 | (interrupt ? WaitInterruptBit : 0) | (statusWrite ? WaitStatusWriteBit : 0) | (fence ? WaitFenceBit : 0) | ((ulong)statusData << 32),
            statusAddress.Value & ~3UL);

    /// <summary>PASID-based IOTLB invalidation of all first-stage/nested entries of (DID, PASID).</summary>
    public static InvalidationDescriptor PasidIotlbAll(ushort domainId, uint pasid) =>
        new(6 | (2UL << GranularityShift) | ((ulong)domainId << 16) | ((ulong)(pasid & 0xFFFFF) << 32), 0);

    /// <summary>PASID-based page-selective IOTLB invalidation.</summary>
    public static InvalidationDescriptor PasidIotlbPage(ushort domainId, uint pasid, ulong address, int addressMask, bool leafOnly) =>
        new(6 | (3UL << GranularityShift) | ((ulong)domainId << 16) | ((ulong)(pasid & 0xFFFFF) << 32),
            (address & ~0xFFFUL) | (leafOnly ? InvalidationHintBit : 0) | (uint)(addressMask & 0x3F));

    /// <summary>PASID-cache invalidation with granularity <paramref name="granularity"/> (0 domain, 1 PASID, 3 global).</summary>
    public static InvalidationDescriptor PasidCache(int granularity, ushort domainId, uint pasid) =>
        new(7 | ((ulong)(granularity & 3) << GranularityShift) | ((ulong)domainId << 16) | ((ulong)(pasid & 0xFFFFF) << 32), 0);

    /// <summary>PASID-based device-TLB invalidation.</summary>
    public static InvalidationDescriptor PasidDeviceTlb(ushort sourceId, ushort pfsid, uint pasid, ulong address, bool sizeBit, bool allPasids) =>
        new(8 | ((ulong)(pfsid & 0xF) << 12) | ((ulong)sourceId << 16) | ((ulong)(pasid & 0xFFFFF) << 32) | ((ulong)(pfsid >> 4) << 52),
            (address & ~0xFFFUL) | (sizeBit ? 1UL << 11 : 0) | (allPasids ? 1UL : 0));

    /// <summary>
    /// The reserved bits of <c>qw0</c>/<c>qw1</c> for this descriptor's type, or null for a type the model does not
    /// implement. The extended type field <c>qw0[11:9]</c> is reserved for every type here.
    /// </summary>
    public (ulong Q0, ulong Q1)? ReservedMasks() => Type switch
    {
        InvalidationDescriptorType.ContextCache => (0xFFFC_0000_0000_FFC0UL, ulong.MaxValue),
        InvalidationDescriptorType.Iotlb => (0xFFFF_FFFF_0000_FF00UL, 0xF80UL),
        InvalidationDescriptorType.DeviceTlb => (0x000F_0000_FFE0_0FF0UL, 0xFFEUL),
        InvalidationDescriptorType.Wait => (0x0000_0000_FFFF_FF00UL, 0),
        InvalidationDescriptorType.PasidIotlb => (0xFFF0_0000_0000_FFC0UL, 0xF80UL),
        InvalidationDescriptorType.PasidCache => (0xFFF0_0000_0000_FFC0UL, ulong.MaxValue),
        InvalidationDescriptorType.PasidDeviceTlb => (0x0000_0000_0000_0E00UL, 0x7FEUL),
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Q1:x16}:{Q0:x16}";
}
