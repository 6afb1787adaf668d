namespace Ioasid.Core.Uapi;

/// <summary>
/// The IOMMU_TEST_CMD handler: the part of the kernel's <c>selftest.c</c> that needs a mock IOMMU driver. The core
/// only knows the command's transport; the handler lives with the mock driver (Ioasid.Drivers' <c>MockSelftest</c>),
/// as the kernel keeps the selftest in its own module.
/// </summary>
public interface IIommufdSelftest
{
    /// <summary>
    /// Runs one op on <paramref name="file"/>. The extensible-struct contract has been applied; on success the
    /// dispatcher copies <paramref name="cmd"/> back. Unknown ops → EOPNOTSUPP. Errors may be returned or thrown as
    /// <see cref="IoasidException"/>.
    /// </summary>
    Errno Run(IommuFile file, ref IommuTestCmd cmd);
}
