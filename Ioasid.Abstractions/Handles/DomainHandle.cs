namespace Ioasid;

/// <summary>
/// An opaque handle to a domain object owned by an IOMMU driver (the kernel's <c>struct iommu_domain *</c>).
/// Zero is never a valid handle.
/// </summary>
[TypedHandle<ulong>(Min = 1)]
public readonly partial struct DomainHandle
{
}
