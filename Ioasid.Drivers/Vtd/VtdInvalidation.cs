using System.Numerics;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// Range invalidation as the kernel's VT-d driver computes it (<c>calculate_psi_aligned_address</c>): the smallest
/// naturally aligned power-of-two block of pages covering [start, end], as (address, AM). A mask above CAP.MAMV falls
/// back to a domain-selective (or all-in-PASID) invalidation.
/// </summary>
internal static class VtdInvalidation
{
    public static (ulong Address, int Mask) AlignedBlock(ulong start, ulong endInclusive)
    {
        ulong startPfn = start >> 12;
        ulong endPfn = endInclusive >> 12;
        int mask = 64 - BitOperations.LeadingZeroCount(startPfn ^ endPfn); // the smallest aligned block holding both ends
        return (mask >= 52 ? 0 : (startPfn >> mask) << mask << 12, mask);
    }

    /// <summary>Queues the second-stage invalidation of [start, end] for DID on a unit (PSI or DSI).</summary>
    public static void SecondStage(VtdUnit unit, ushort domainId, ulong start, ulong endInclusive, bool leafOnly)
    {
        (ulong address, int mask) = AlignedBlock(start, endInclusive);
        bool psi = unit.Supports(unit.Cap, VtdCapRegister.PageSelectiveInvalidationBit)
            && mask <= VtdCapRegister.Field(unit.Cap, VtdCapRegister.MaxAddressMaskShift, 6);
        unit.Submit(psi ? InvalidationDescriptor.IotlbPage(domainId, address, mask, leafOnly) : InvalidationDescriptor.IotlbDomain(domainId));
    }

    /// <summary>Queues the first-stage (PASID-based) invalidation of [start, end] for (DID, PASID).</summary>
    public static void FirstStage(VtdUnit unit, ushort domainId, uint pasid, ulong start, ulong endInclusive, bool leafOnly)
    {
        (ulong address, int mask) = AlignedBlock(start, endInclusive);
        bool psi = mask <= VtdCapRegister.Field(unit.Cap, VtdCapRegister.MaxAddressMaskShift, 6);
        unit.Submit(psi ? InvalidationDescriptor.PasidIotlbPage(domainId, pasid, address, mask, leafOnly) : InvalidationDescriptor.PasidIotlbAll(domainId, pasid));
    }
}
