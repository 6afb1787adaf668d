using Ioasid.Core.Iommu;

namespace Ioasid.Drivers.Smmu;

/// <summary>
/// The SMMUv3 driver's static blocking domain: on the RID an abort STE (or, while PASIDs are attached, a CD-table
/// STE with S1DSS = terminate); as <c>set_dev_pasid</c> it clears the PASID's CD — the PASID detach.
/// </summary>
[IommuDomainOps]
public sealed partial class SmmuBlockedDomain : IommuDomain
{
    internal SmmuBlockedDomain(SmmuV3Driver driver)
        : base(IommuDomainType.Blocked, OpsTable) => Driver = driver;

    /// <summary>The driver.</summary>
    public SmmuV3Driver Driver { get; }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(SmmuBlockedDomain domain, IommuDevice device, IommuDomain? old) => domain.Driver.AttachRid(device, domain);

    [DomainOp(DomainOpKind.SetDevPasid)]
    private static Errno SetDevPasid(SmmuBlockedDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old)
    {
        domain.Driver.ClearPasid(device, pasid);
        return Errno.None;
    }
}

/// <summary>
/// The SMMUv3 driver's static identity domain: a bypass STE (or, while PASIDs are attached, a CD-table STE with
/// S1DSS = bypass so the PASIDs keep working).
/// </summary>
[IommuDomainOps]
public sealed partial class SmmuIdentityDomain : IommuDomain
{
    internal SmmuIdentityDomain(SmmuV3Driver driver)
        : base(IommuDomainType.Identity, OpsTable) => Driver = driver;

    /// <summary>The driver.</summary>
    public SmmuV3Driver Driver { get; }

    [DomainOp(DomainOpKind.AttachDev)]
    private static Errno AttachDev(SmmuIdentityDomain domain, IommuDevice device, IommuDomain? old) => domain.Driver.AttachRid(device, domain);
}
