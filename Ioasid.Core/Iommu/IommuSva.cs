using System;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

/// <summary>
/// A bond between a device and a process address space (the kernel's <c>struct iommu_sva</c>), returned by
/// <see cref="IommuCore.BindSva"/>: the device's DMA tagged with <see cref="Pasid"/> is translated by the process's own
/// CPU page table through <see cref="Domain"/>. Binding the same device and address space again returns this same
/// handle with one more user; each bind needs its <see cref="Unbind"/>.
/// </summary>
public sealed class IommuSva
{
    private readonly IommuCore _core;

    internal IommuSva(IommuCore core, IommuDevice device, UserAddressSpace mm, IommuDomain domain, Pasid pasid)
    {
        _core = core;
        Device = device;
        Mm = mm;
        Domain = domain;
        Pasid = pasid;
        Users = 1;
    }

    /// <summary>The bound device.</summary>
    public IommuDevice Device { get; }

    /// <summary>The bound address space.</summary>
    public UserAddressSpace Mm { get; }

    /// <summary>The SVA domain installed at <see cref="Pasid"/> of the device, shared with other devices bound to <see cref="Mm"/> where the driver allows.</summary>
    public IommuDomain Domain { get; }

    /// <summary><c>iommu_sva_get_pasid</c>: the address space's global PASID.</summary>
    public Pasid Pasid { get; }

    /// <summary>Binds not yet undone (the handle's refcount).</summary>
    public int Users { get; internal set; }

    /// <summary>Whether the bond still exists.</summary>
    public bool IsBound => Users > 0;

    /// <summary>
    /// <c>iommu_sva_unbind_device</c>: drops one user; the last one blocks the PASID on the device and, when no other
    /// device uses it, frees the domain. The address space keeps its PASID while it lives.
    /// </summary>
    /// <exception cref="InvalidOperationException">The bond was already fully unbound.</exception>
    public void Unbind() => _core.UnbindSva(this);

    /// <inheritdoc />
    public override string ToString() => $"sva {Device} pid {Mm.Owner.Pid} pasid {Pasid} ({Users} users)";
}
