using System;

namespace Ioasid.Core.Iommufd;

/// <summary>The flags of IOMMU_IOAS_MAP, IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_COPY, with the uAPI's values.</summary>
[Flags]
public enum IoasMapFlags : uint
{
    /// <summary>No flag; not a valid map on its own (one of READABLE or WRITEABLE is required).</summary>
    None = 0,

    /// <summary>IOMMU_IOAS_MAP_FIXED_IOVA: map at the given IOVA instead of choosing one.</summary>
    FixedIova = 1,

    /// <summary>IOMMU_IOAS_MAP_WRITEABLE: devices may write through the mapping.</summary>
    Writeable = 2,

    /// <summary>IOMMU_IOAS_MAP_READABLE: devices may read through the mapping.</summary>
    Readable = 4,

    /// <summary>READABLE | WRITEABLE.</summary>
    ReadWrite = Readable | Writeable,
}
