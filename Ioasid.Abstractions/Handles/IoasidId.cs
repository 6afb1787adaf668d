namespace Ioasid;

/// <summary>
/// The id of an object in an iommufd context (an IOAS, a device, a hardware page table, an access, …).
/// All object kinds share one id space; ids run from 1 to 2^31-1 and 0 is never valid.
/// </summary>
[TypedHandle<uint>(Min = 1, Max = 0x7FFFFFFF)]
public readonly partial struct IoasidId
{
}
