using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Mock;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// The simulated world a script runs in: one machine, one user process, and the iommufd context that process
/// opened. Commands reach everything through it.
/// </summary>
internal sealed partial class Session
{
    private readonly Dictionary<int, MemFd> _files = new();
    private int _nextFd = 3; // 0-2 are stdio, as in a real process

    public Session(ulong memorySize = 64UL << 30)
    {
        Machine = new Machine(memorySize);
        Process = Machine.CreateProcess();
        Context = new IommufdContext(Process);
        Iommu = new IommuCore();
        MockDriver = new MockIommuDriver(Iommu, Machine.Memory, claims: pci => !VendorDevices.Contains(pci.Rid));
        Iommu.RegisterDriver(MockDriver.Ops);
    }

    /// <summary>The machine's IOMMU layer.</summary>
    public IommuCore Iommu { get; }

    /// <summary>RIDs a vendor driver family (e.g. <c>vtd device add</c>) claims; the mock IOMMU takes every other device.</summary>
    public HashSet<Rid> VendorDevices { get; } = new();

    /// <summary>The mock IOMMU every device not in <see cref="VendorDevices"/> sits behind.</summary>
    public MockIommuDriver MockDriver { get; }

    /// <summary>PCI functions (devices and bridges) by name.</summary>
    public Dictionary<string, PciDevice> Pci { get; } = new();

    /// <summary>The probed device named <paramref name="name"/>.</summary>
    public IommuDevice Device(string name) =>
        Pci.TryGetValue(name, out var pci) ? Iommu.GetDevice(pci.Rid) : throw new IoasidException(Errno.ENODEV, $"no device named '{name}'");

    public Machine Machine { get; }

    public UserProcess Process { get; }

    public IommufdContext Context { get; }

    public int AddFile(MemFd file)
    {
        var fd = _nextFd++;
        _files.Add(fd, file);
        return fd;
    }

    public MemFd File(int fd) =>
        _files.TryGetValue(fd, out var file) ? file : throw new IoasidException(Errno.EBADF, $"fd {fd} is not an open memfd");

    /// <summary>An object id from a script: 0 or anything out of range is simply an id no object has (ENOENT).</summary>
    public T Get<T>(ulong id)
        where T : IommufdObject =>
        id <= IoasidId.MaxRawValue && IoasidId.TryFrom((uint)id, out var handle)
            ? Context.Get<T>(handle)
            : throw new IoasidException(Errno.ENOENT, $"no object with id {id}");
}
