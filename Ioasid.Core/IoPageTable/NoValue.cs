namespace Ioasid.Core.IoPageTable;

/// <summary>
/// Empty payload for interval maps that only need the intervals themselves (the allowed ranges): a zero-size struct
/// instead of a dummy <c>object</c>, so nothing is boxed and the payload array holds no references for the GC to scan.
/// </summary>
internal readonly struct NoValue
{
}
