namespace Ioasid.Drivers;

/// <summary>Names of the vendor driver models this assembly provides.</summary>
public static class DriverNames
{
    /// <summary>The mock driver, modelled on the kernel's iommufd selftest mock domain.</summary>
    public const string Mock = "mock";

    /// <summary>The Intel VT-d driver model.</summary>
    public const string IntelVtd = "intel-vtd";

    /// <summary>The ARM SMMUv3 driver model.</summary>
    public const string ArmSmmuV3 = "arm-smmu-v3";
}
