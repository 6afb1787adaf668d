using System;
using System.Numerics;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// Domain-id allocation for one VT-d unit (the kernel's per-IOMMU ida): ids 0 and 1 are reserved (0 by the spec's
/// caching-mode rule, 1 for pass-through entries as Linux's <c>FLPT_DEFAULT_DID</c>), the rest up to CAP.ND's limit
/// are handed out lowest first.
/// </summary>
public sealed class DomainIdAllocator
{
    /// <summary>The DID pass-through (identity) entries use.</summary>
    public const ushort PassThroughDomainId = 1;

    /// <summary>The first DID handed out.</summary>
    public const ushort FirstDomainId = 2;

    private readonly ulong[] _used;

    /// <summary>Creates an allocator for <paramref name="count"/> domain ids.</summary>
    public DomainIdAllocator(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, FirstDomainId + 1);
        Count = Math.Min(count, 1 << 16);
        _used = new ulong[(Count + 63) / 64];
        _used[0] = 0b11;
    }

    /// <summary>Domain ids the unit supports.</summary>
    public int Count { get; }

    /// <summary>Ids in use, the reserved ones included.</summary>
    public int InUse { get; private set; } = 2;

    /// <summary>Allocates the lowest free id; false when all are in use (the driver then fails attach with ENOSPC).</summary>
    public bool TryAllocate(out ushort domainId)
    {
        for (int word = 0; word < _used.Length; word++)
        {
            ulong free = ~_used[word];
            if (free == 0)
            {
                continue;
            }

            int id = (word * 64) + BitOperations.TrailingZeroCount(free);
            if (id >= Count)
            {
                break;
            }

            _used[word] |= 1UL << (id & 63);
            InUse++;
            domainId = (ushort)id;
            return true;
        }

        domainId = 0;
        return false;
    }

    /// <summary>Returns <paramref name="domainId"/>; its cached translations must already be invalidated.</summary>
    public void Free(ushort domainId)
    {
        if (domainId < FirstDomainId || (_used[domainId / 64] & (1UL << (domainId & 63))) == 0)
        {
            throw new InvalidOperationException($"domain id {domainId} is not allocated");
        }

        _used[domainId / 64] &= ~(1UL << (domainId & 63));
        InUse--;
    }

    /// <summary>Whether <paramref name="domainId"/> is allocated.</summary>
    public bool IsAllocated(ushort domainId) => domainId < Count && (_used[domainId / 64] & (1UL << (domainId & 63))) != 0;
}
