namespace Ioasid.Core.Iommufd;

/// <summary>A read-only view of one mapping of an IOAS, for listings and tests.</summary>
/// <param name="Range">The IOVA range of the mapping.</param>
/// <param name="SourceAddress">The user VA (or memfd offset) behind <c>Range.Start</c>.</param>
/// <param name="FromFile">Whether the memory comes from a memfd.</param>
/// <param name="Protection">READABLE and/or WRITEABLE.</param>
public readonly record struct IoasAreaInfo(IovaRange Range, ulong SourceAddress, bool FromFile, IoasMapFlags Protection);
