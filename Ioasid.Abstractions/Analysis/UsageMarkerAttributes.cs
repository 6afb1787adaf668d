using System;

namespace Ioasid;

/// <summary>
/// Marks a type as a mediated device (an mdev): a child of a parent PCI function with no requester id of its own.
/// Ioasid's analyzers then report it reaching the IOMMU layer (IOA001): an mdev's DMA is its parent's RID plus the
/// mdev's PASID, or a software access, never a device of its own.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = true, AllowMultiple = false)]
public sealed class MediatedDeviceAttribute : Attribute
{
}

/// <summary>
/// Marks a type or method as part of the IOMMU layer (the kernel's <c>iommu.c</c> and the drivers below it), which
/// knows only PCI functions, their RIDs and PASIDs. Ioasid's analyzers report mediated devices reaching such code
/// (IOA001). Driver classes (<see cref="IommuDriverAttribute"/>) and domain classes (<see cref="IommuDomainOpsAttribute"/>)
/// count as IOMMU layer without this marker.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface | AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class IommuLayerAttribute : Attribute
{
}

/// <summary>
/// Marks a table type that belongs to one device, not to a domain: a PASID table (VT-d) or a context-descriptor
/// table (SMMUv3). A domain holds only its I/O page table; Ioasid's analyzers report a domain that holds one of
/// these (IOA003).
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = true, AllowMultiple = false)]
public sealed class PerDeviceTableAttribute : Attribute
{
}

/// <summary>
/// Marks a method whose result owns something the caller must keep or release (an allocated object or id, pins),
/// as the kernel's <c>__must_check</c> does. Ioasid's analyzers report a call whose result is dropped (IOA007);
/// assign it to a discard (<c>_ = …</c>) to drop it on purpose.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class MustUseResultAttribute : Attribute
{
    /// <summary>
    /// The name of a parameter that, when the caller passes it, makes the result something the caller already has
    /// (e.g. the fixed IOVA a map call returns unchanged), so the result may then be dropped. Null: always report.
    /// </summary>
    public string? UnlessArgument { get; set; }
}
