using Ioasid.Core.Iommu;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A paging hardware page table (the kernel's <c>iommufd_hwpt_paging</c>): an IOMMU domain that mirrors one IOAS.
/// It holds its IOAS, and every attached device holds it. One created automatically by an attach to an IOAS is
/// destroyed when its last device leaves; one made with IOMMU_HWPT_ALLOC lives until IOMMU_DESTROY.
/// </summary>
public sealed class HwptPaging : IommufdObject
{
    private readonly IommuCore _core;

    internal HwptPaging(IommufdContext context, IoasidId id, IommuCore core, IommuDomain domain, Ioas ioas, bool isAuto, uint flags)
        : base(context, id)
    {
        _core = core;
        Domain = domain;
        Ioas = ioas;
        IsAuto = isAuto;
        Flags = flags;
        ioas.AddDomain(domain, core); // fills the domain with every mapping; throws and changes nothing on failure
        ioas.AddUser();
        ioas.AddHwpt(this);
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.HwptPaging;

    /// <summary>The IOMMU domain.</summary>
    public IommuDomain Domain { get; }

    /// <summary>The IOAS the domain mirrors.</summary>
    public Ioas Ioas { get; }

    /// <summary>Whether an attach to the IOAS created it (and the last detach destroys it).</summary>
    public bool IsAuto { get; }

    /// <summary>The IOMMU_HWPT_ALLOC flags it was created with (NEST_PARENT, DIRTY_TRACKING, PASID).</summary>
    public uint Flags { get; }

    private protected override void Release()
    {
        Ioas.RemoveHwpt(this);
        Ioas.RemoveDomain(Domain);
        Ioas.RemoveUser();
        _core.FreeDomain(Domain);
    }
}
