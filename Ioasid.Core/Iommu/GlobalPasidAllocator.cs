using System.Collections.Generic;

namespace Ioasid.Core.Iommu;

/// <summary>
/// The kernel's global PASID space (<c>iommu_global_pasid_ida</c>): PASIDs that mean the same address space on every
/// device, as SVA needs because one process's PASID is used with all devices bound to it. It never hands out
/// IOMMU_NO_PASID (0), the PASID of requests without one; the lowest free value within the device's width comes first.
/// </summary>
public sealed class GlobalPasidAllocator
{
    /// <summary><c>IOMMU_FIRST_GLOBAL_PASID</c>.</summary>
    public const uint FirstGlobalPasid = 1;

    private readonly HashSet<uint> _used = new();

    /// <summary>PASIDs handed out and not freed.</summary>
    public int Count => _used.Count;

    /// <summary>Whether <paramref name="pasid"/> is allocated.</summary>
    public bool IsAllocated(Pasid pasid) => _used.Contains(pasid.Value);

    /// <summary>
    /// <c>iommu_alloc_global_pasid</c>: the lowest free PASID in [1, <paramref name="maxPasids"/> − 1]; false for a
    /// device without PASID support (<paramref name="maxPasids"/> 0) or when that range is exhausted.
    /// </summary>
    public bool TryAllocate(uint maxPasids, out Pasid pasid)
    {
        uint limit = maxPasids > (1u << Pasid.Bits) ? 1u << Pasid.Bits : maxPasids;
        for (uint value = FirstGlobalPasid; value < limit; value++)
        {
            if (_used.Add(value))
            {
                pasid = new Pasid(value);
                return true;
            }
        }

        pasid = Pasid.NoPasid;
        return false;
    }

    /// <summary><c>iommu_free_global_pasid</c>.</summary>
    public void Free(Pasid pasid) => _used.Remove(pasid.Value);
}
