using Ioasid.TestKit;

namespace Ioasid.Generators.Tests.DriverOps;

/// <summary>
/// The emitted tables, whole, for the four shapes a driver author writes. Snapshots are <c>.txt</c>: a <c>.cs</c> file
/// under <c>DriverOps/Snapshots/</c> would be compiled (tests/Directory.Build.targets removes only the root <c>Snapshots/**</c>).
/// </summary>
public sealed class DriverOpsSnapshotTests
{
    [Fact]
    public void Full_driver_fills_every_entry()
    {
        var result = DriverOpsHarness.RunClean(DriverOpsSources.Domains, DriverOpsSources.FullDriver);
        Snapshot.Verify(result.Source("Sample.FullDriver.IommuOps.g.cs"), "txt");
    }

    [Fact]
    public void Minimal_driver_shows_absent_entries_as_null()
    {
        var result = DriverOpsHarness.RunClean(DriverOpsSources.Domains, DriverOpsSources.MinimalDriver);
        Snapshot.Verify(result.Source("Sample.MinimalDriver.IommuOps.g.cs"), "txt");
    }

    [Fact]
    public void Paging_domain_with_every_domain_op()
    {
        var result = DriverOpsHarness.RunClean(DriverOpsSources.Domains);
        Snapshot.Verify(result.Source("Sample.PagingDomain.DomainOps.g.cs"), "txt");
    }

    [Fact]
    public void Blocking_domain_with_attach_and_pasid_attach_only()
    {
        var result = DriverOpsHarness.RunClean(DriverOpsSources.Domains);
        Snapshot.Verify(result.Source("Sample.BlockingDomain.DomainOps.g.cs"), "txt");
    }
}
