// An out-of-tree IOMMU driver end to end, built only against the Ioasid package: the tiny-iommu driver plugs into
// the IOMMU core through its generated ops table, a device is bound and attached to an IOAS through iommufd, user
// memory is mapped, and the tiny-iommu hardware model does the device's DMA by walking the driver's page tables.
// Prints each step and "tiny-iommu sample: PASS"; exits 1 with the reason on the first step that goes wrong.
using System.Text;
using Ioasid;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware;
using TinyIommu.Driver;
using TinyIommu.Hardware;

try
{
    Run();
    Console.WriteLine("tiny-iommu sample: PASS");
    return 0;
}
catch (Exception e)
{
    Console.WriteLine($"tiny-iommu sample: FAIL: {e.Message}");
    return 1;
}

static void Run()
{
    var machine = new Machine(1UL << 30);
    var process = machine.CreateProcess();
    var core = new IommuCore();
    var driver = new TinyIommuDriver(core, machine.Memory);
    core.RegisterDriver(driver.Ops);
    driver.Hardware.StaleChecker.Enabled = true;
    Console.WriteLine($"registered driver '{driver.Ops.Name}' (generated ops table)");

    using var iommufd = new IommufdContext(process);
    var ioas = iommufd.AllocIoas();
    var nic = iommufd.BindDevice(core, core.AddDevice(new PciDevice(Rid.Create(0, 3, 0), "tiny-nic")));
    var hwpt = nic.Attach(ioas.Id);
    var domain = hwpt.Domain as TinyPagingDomain ?? throw new InvalidOperationException($"attached to {hwpt.Domain}, not a tiny-iommu domain");
    Rid rid = nic.Device.Rid;
    Console.WriteLine($"bound {nic.Device} and attached it to IOAS {ioas.Id} through HWPT {hwpt.Id} (domain id {domain.DomainId})");

    const ulong length = 64 * 1024;
    ulong va = process.Mm.Map(length);
    const string message = "hello from user memory";
    process.Mm.Write(va + 0x1ff8, Encoding.ASCII.GetBytes(message));
    Iova iova = ioas.Map(va, length, IoasMapFlags.ReadWrite);
    Console.WriteLine($"mapped {length / 1024} KiB of user memory at IOVA {iova}; page tables use {domain.TablePages} pages");

    var readBack = new byte[message.Length];
    DmaResult read = driver.Hardware.Dma(DmaRequest.ForRead(rid, iova + 0x1ff8, (ulong)readBack.Length), readBack);
    Require(read.IsSuccess, $"DMA read faulted: {read.Fault}");
    string seen = Encoding.ASCII.GetString(readBack);
    Require(seen == message, $"DMA read returned \"{seen}\"");
    Console.WriteLine($"DMA read ok: \"{seen}\" ({read.BytesTransferred} bytes across a page boundary)");

    byte[] payload = Encoding.ASCII.GetBytes("written by DMA");
    DmaResult write = driver.Hardware.Dma(DmaRequest.ForWrite(rid, iova + 0x8000, (ulong)payload.Length), payload);
    Require(write.IsSuccess, $"DMA write faulted: {write.Fault}");
    var user = new byte[payload.Length];
    process.Mm.Read(va + 0x8000, user);
    Require(user.AsSpan().SequenceEqual(payload), "the user does not see the device's write");
    Console.WriteLine($"DMA write ok: the process reads \"{Encoding.ASCII.GetString(user)}\"");

    Require(driver.Hardware.Dma(DmaRequest.ForRead(rid, iova + 0x1ff8, (ulong)readBack.Length), readBack).IsSuccess, "repeated DMA read faulted");
    Console.WriteLine($"IOTLB: {driver.Hardware.Walks} walks, {driver.Hardware.Iotlb.Hits} hits, {driver.Hardware.StaleChecker.StaleHits} stale hits");
    Require(driver.Hardware.Iotlb.Hits > 0, "the repeated read did not hit the IOTLB");

    ioas.Unmap(iova, length);
    DmaResult after = driver.Hardware.Dma(DmaRequest.ForRead(rid, iova + 0x1ff8, 1), new byte[1]);
    Require(after.Fault == FaultReason.Translation, $"DMA after unmap gave {after.Fault}, expected a translation fault");
    Console.WriteLine($"after unmap: DMA faults with {after.Fault} ({(TinyFaultCode)after.VendorCode}); page tables back to {domain.TablePages} page(s)");
    Require(domain.TablePages == 1, "emptied page tables were not freed");
    Require(driver.Hardware.StaleChecker.StaleHits == 0, "the IOTLB served a stale translation");

    nic.Detach();
    DmaResult blocked = driver.Hardware.Dma(DmaRequest.ForRead(rid, iova, 1), new byte[1]);
    Require(blocked.Fault == FaultReason.Blocked, $"DMA after detach gave {blocked.Fault}");
    Console.WriteLine($"after detach: DMA is {blocked.Fault} ({driver.Hardware.Faults.Recorded} faults logged)");
}

static void Require(bool condition, string failure)
{
    if (!condition)
    {
        throw new InvalidOperationException(failure);
    }
}
