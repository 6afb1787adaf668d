using Ioasid.Core.Iommu;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// The static blocking domain (<c>blocked_domain</c>): attaching it clears the RID's PASID entry RID_PASID (scalable)
/// or its context entry (legacy); on a PASID it tears that PASID's entry down. Either way the invalidations for the
/// old DID follow, so DMA faults at once.
/// </summary>
[IommuDomainOps]
public sealed partial class VtdBlockedDomain : IommuDomain
{
    internal VtdBlockedDomain()
        : base(IommuDomainType.Blocked, OpsTable)
    {
    }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(VtdBlockedDomain domain, IommuDevice device, IommuDomain? old) =>
        VtdAttach.Block(domain, device, VtdDeviceData.RidPasid);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(VtdBlockedDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        VtdAttach.Block(domain, device, pasid.Value);
}

/// <summary>
/// The static identity domain (<c>identity_domain</c>): pass-through (PGTT 100b, or legacy TT 10b) under the reserved
/// DID 1. Needs ECAP.PT.
/// </summary>
[IommuDomainOps]
public sealed partial class VtdIdentityDomain : IommuDomain, IVtdDomain
{
    internal VtdIdentityDomain()
        : base(IommuDomainType.Identity, OpsTable)
    {
    }

    VtdCacheTags? IVtdDomain.Tags => null;

    bool IVtdDomain.CanAttach(VtdUnit unit, bool pasid) => unit.Supports(unit.Ecap, VtdEcapRegister.PassThroughBit);

    PasidEntry IVtdDomain.PasidEntryFor(VtdUnit unit, ushort domainId) => PasidEntry.PassThrough(unit.Levels - 2, domainId);

    ContextEntry? IVtdDomain.LegacyContextFor(VtdUnit unit, ushort domainId) => ContextEntry.PassThrough(unit.Levels - 2, domainId);

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(VtdIdentityDomain domain, IommuDevice device, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, VtdDeviceData.RidPasid);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(VtdIdentityDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old) =>
        VtdAttach.Install(domain, domain, device, pasid.Value);
}
