namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>How a VMSAv8-64 walk ended.</summary>
public enum WalkFault
{
    /// <summary>A leaf was found and passed the walk's checks.</summary>
    None = 0,

    /// <summary>The input is outside the range or a descriptor is invalid or reserved (F_TRANSLATION).</summary>
    Translation,

    /// <summary>A table or output address is beyond the output size (F_ADDR_SIZE).</summary>
    AddressSize,

    /// <summary>The leaf's access flag is 0 and AFFD is 0 (F_ACCESS).</summary>
    Access,

    /// <summary>Stage 2 did not allow the read of a stage-1 descriptor (nested walks only; F_PERMISSION at stage 2).</summary>
    Permission,

    /// <summary>A table read fell outside physical memory (F_WALK_EABT).</summary>
    ExternalAbort,
}
