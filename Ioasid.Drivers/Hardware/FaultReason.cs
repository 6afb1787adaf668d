namespace Ioasid.Drivers.Hardware;

/// <summary>
/// Why a hardware model refused a DMA, in vendor-neutral terms. Each <see cref="FaultRecord"/> also carries the
/// vendor's own code (VT-d fault reason, SMMUv3 event type, the mock's <see cref="Mock.MockFaultCode"/>).
/// </summary>
public enum FaultReason
{
    /// <summary>No fault: the request was translated.</summary>
    None = 0,

    /// <summary>No configuration for the requester: no context/RID entry, no PASID entry (VT-d 2h/59h, SMMUv3 C_BAD_STE/C_BAD_CD).</summary>
    NoEntry,

    /// <summary>The requester's entry blocks all DMA (a blocked domain; SMMUv3 abort STE).</summary>
    Blocked,

    /// <summary>The IOVA is beyond what the translation covers (VT-d 4h, SMMUv3 F_ADDR_SIZE or out-of-range F_TRANSLATION).</summary>
    AddressSize,

    /// <summary>A not-present entry on the walk (VT-d 6h-class second-stage faults, SMMUv3 F_TRANSLATION).</summary>
    Translation,

    /// <summary>The translation does not allow the access (VT-d 5h/6h, SMMUv3 F_PERMISSION).</summary>
    Permission,

    /// <summary>A present entry with reserved bits set or an invalid encoding (VT-d 7h/Ah-class, SMMUv3 C_BAD_*).</summary>
    InvalidEntry,

    /// <summary>The walk or the access reached an address outside physical memory (a bus abort; SMMUv3 F_WALK_EABT).</summary>
    ExternalAbort,
}
