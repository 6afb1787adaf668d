namespace Ioasid.Core.Iommufd;

/// <summary>
/// The kinds of object an iommufd context holds, in the order of the kernel's <c>enum iommufd_object_type</c>.
/// The numbers are not ABI; they only fix a stable order for listings.
/// </summary>
public enum ObjectKind
{
    /// <summary>A device bound to the context (VFIO cdev bind).</summary>
    Device = 1,

    /// <summary>A paging hardware page table (an IOMMU domain that mirrors an IOAS).</summary>
    HwptPaging = 2,

    /// <summary>A nested hardware page table (a user stage-1 table over a paging parent).</summary>
    HwptNested = 3,

    /// <summary>An I/O address space.</summary>
    Ioas = 4,

    /// <summary>A software access (an in-kernel consumer such as a mediated device's parent driver).</summary>
    Access = 5,

    /// <summary>A fault queue.</summary>
    Fault = 6,

    /// <summary>A virtual IOMMU.</summary>
    Viommu = 7,

    /// <summary>A virtual device of a vIOMMU.</summary>
    Vdevice = 8,

    /// <summary>A vIOMMU event queue.</summary>
    Veventq = 9,

    /// <summary>A hardware queue of a vIOMMU.</summary>
    HwQueue = 10,

    /// <summary>A selftest mock object.</summary>
    Selftest = 11,
}
