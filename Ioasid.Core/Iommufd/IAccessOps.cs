namespace Ioasid.Core.Iommufd;

/// <summary>
/// What a software consumer of an IOAS provides when it creates an access (the kernel's
/// <c>struct iommufd_access_ops</c>): typically a mediated device's parent driver, which reads and writes guest
/// memory by IOVA without an IOMMU domain.
/// </summary>
public interface IAccessOps
{
    /// <summary>Whether the access pins pages (<c>needs_pin_pages</c>); it then raises the IOAS alignment to 4 KiB.</summary>
    bool NeedsPinPages { get; }

    /// <summary>
    /// The IOAS is unmapping <c>[iova, iova + length)</c>: synchronously unpin every range pinned with
    /// <see cref="IommufdAccess.PinPages"/> that intersects it. An unmap waits for this and fails with EDEADLK
    /// if pins remain after 100 requests.
    /// </summary>
    void Unmap(IommufdAccess access, Iova iova, ulong length);
}
