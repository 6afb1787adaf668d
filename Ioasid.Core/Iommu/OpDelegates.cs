using System;
using System.Collections.Generic;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommu;

// The signatures of the kernel's iommu_ops and iommu_domain_ops members (drivers.md §1.2–1.3). Ops that the
// kernel lets fail return an Errno (hot paths and attach, whose errno carries meaning); allocators throw an
// IoasidException, as an ERR_PTR return would.

/// <summary><c>probe_device</c>: claims the device, sets <see cref="IommuDevice.DriverData"/>, returns its unit; throw ENODEV to decline.</summary>
public delegate IommuUnit ProbeDeviceOp(IommuDevice device);

/// <summary><c>release_device</c>: frees the per-device data.</summary>
public delegate void ReleaseDeviceOp(IommuDevice device);

/// <summary><c>device_group</c>: chooses the device's group, usually through <c>IommuGroups.PciDeviceGroup</c>.</summary>
public delegate IommuGroup DeviceGroupOp(IommuDevice device);

/// <summary><c>capable</c>: a per-device capability.</summary>
public delegate bool CapableOp(IommuDevice device, IommuCapability capability);

/// <summary><c>hw_info</c>: the driver's info blob for IOMMU_GET_HW_INFO; <paramref name="type"/> comes in as asked (0 = default) and goes out as returned.</summary>
public delegate byte[] HwInfoOp(IommuDevice device, ref uint type);

/// <summary><c>get_resv_regions</c>: adds the device's reserved regions to <paramref name="regions"/>.</summary>
public delegate void GetResvRegionsOp(IommuDevice device, List<ReservedRegion> regions);

/// <summary><c>domain_alloc_paging</c>: a paging domain for the device, with no flags.</summary>
public delegate IommuDomain DomainAllocPagingOp(IommuDevice device);

/// <summary><c>domain_alloc_paging_flags</c>: a paging domain with IOMMU_HWPT_ALLOC_* flags and optional driver data.</summary>
public delegate IommuDomain DomainAllocPagingFlagsOp(IommuDevice device, uint flags, ReadOnlySpan<byte> userData);

/// <summary><c>domain_alloc_identity</c>: a per-device identity domain.</summary>
public delegate IommuDomain DomainAllocIdentityOp(IommuDevice device);

/// <summary>
/// <c>domain_alloc_nested</c>: a nested domain over the nest-parent <paramref name="parent"/>, from the user's stage-1
/// data of type <paramref name="dataType"/> (IOMMU_HWPT_DATA_*: VTD_S1 1, ARM_SMMUV3 2). An unknown type → EOPNOTSUPP,
/// data shorter than the driver's struct → EINVAL.
/// </summary>
public delegate IommuDomain DomainAllocNestedOp(IommuDevice device, IommuDomain parent, uint flags, uint dataType, ReadOnlySpan<byte> userData);

/// <summary><c>domain_alloc_sva</c>: a domain sharing the CPU page table of <paramref name="mm"/>.</summary>
public delegate IommuDomain DomainAllocSvaOp(IommuDevice device, UserAddressSpace mm);

/// <summary><c>attach_dev</c>: make the domain the device's RID translation. EINVAL means "incompatible" (the caller may try another domain), ENOMEM/ENOSPC resources, EBUSY busy, ENODEV other.</summary>
public delegate Errno AttachDevOp(IommuDomain domain, IommuDevice device, IommuDomain? old);

/// <summary><c>set_dev_pasid</c>: set or replace the domain of one PASID; on error the PASID keeps <paramref name="old"/>.</summary>
public delegate Errno SetDevPasidOp(IommuDomain domain, IommuDevice device, Pasid pasid, IommuDomain? old);

/// <summary><c>map_pages</c>: map <paramref name="pageCount"/> pages of <paramref name="pageSize"/>; <paramref name="mapped"/> reports bytes mapped, even on error.</summary>
public delegate Errno MapPagesOp(IommuDomain domain, Iova iova, PhysAddr paddr, ulong pageSize, ulong pageCount, IommuProt prot, out ulong mapped);

/// <summary><c>unmap_pages</c>: unmap and record the invalidation in <paramref name="gather"/>; returns the bytes unmapped (0 for a hole or a refusal).</summary>
public delegate ulong UnmapPagesOp(IommuDomain domain, Iova iova, ulong pageSize, ulong pageCount, IotlbGather gather);

/// <summary><c>flush_iotlb_all</c>: synchronously invalidate everything cached for the domain.</summary>
public delegate void FlushIotlbAllOp(IommuDomain domain);

/// <summary><c>iotlb_sync_map</c>: make new mappings visible to caching hardware.</summary>
public delegate Errno IotlbSyncMapOp(IommuDomain domain, Iova iova, ulong size);

/// <summary><c>iotlb_sync</c>: invalidate what <paramref name="gather"/> recorded, then free its page-table pages.</summary>
public delegate void IotlbSyncOp(IommuDomain domain, IotlbGather gather);

/// <summary><c>iova_to_phys</c>: a software walk; false when nothing is mapped at <paramref name="iova"/>.</summary>
public delegate bool IovaToPhysOp(IommuDomain domain, Iova iova, out PhysAddr physical);

/// <summary><c>enforce_cache_coherency</c>: forbid non-coherent DMA from now on; false when the domain cannot.</summary>
public delegate bool EnforceCacheCoherencyOp(IommuDomain domain);

/// <summary><c>cache_invalidate_user</c>: user-driven invalidation of a nested domain; returns how many entries were handled.</summary>
public delegate Errno CacheInvalidateUserOp(IommuDomain domain, uint dataType, ReadOnlySpan<byte> entries, uint entryLength, out uint handled);

/// <summary><c>free</c>: destroy the domain.</summary>
public delegate void FreeDomainOp(IommuDomain domain);

/// <summary><c>set_dirty_tracking</c>: turn hardware dirty logging on or off.</summary>
public delegate Errno SetDirtyTrackingOp(IommuDomain domain, bool enable);

/// <summary><c>read_and_clear_dirty</c>: report written pages of <c>[iova, iova + size)</c> into <paramref name="dirty"/>, clearing them unless <paramref name="noClear"/>.</summary>
public delegate Errno ReadAndClearDirtyOp(IommuDomain domain, Iova iova, ulong size, bool noClear, DirtyBitmap dirty);
