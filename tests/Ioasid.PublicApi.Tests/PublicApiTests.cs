using Ioasid.TestKit;

namespace Ioasid.ApiApproval;

/// <summary>
/// API approval: the public surface of each shipped assembly, one sorted line per member, must equal the
/// approved snapshot. An unreviewed change fails here with a diff; accept it on purpose with ACCEPT_SNAPSHOTS=1.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void Abstractions_public_api_is_approved() =>
        Snapshot.Verify(Ioasid.TestKit.PublicApi.Dump(typeof(Ioasid.Pasid).Assembly));

    [Fact]
    public void Core_public_api_is_approved() =>
        Snapshot.Verify(Ioasid.TestKit.PublicApi.Dump(typeof(Ioasid.Core.Iommufd.IommufdContext).Assembly));

    [Fact]
    public void Drivers_public_api_is_approved() =>
        Snapshot.Verify(Ioasid.TestKit.PublicApi.Dump(typeof(Ioasid.Drivers.DriverNames).Assembly));
}
