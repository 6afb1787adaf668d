namespace Ioasid.Generators;

/// <summary>
/// Names of the tracked pipeline steps. Tests assert every one of them is cached after an unrelated edit.
/// </summary>
internal static class TrackingNames
{
    public const string TypedHandleResult = nameof(TypedHandleResult);
    public const string TypedHandleModel = nameof(TypedHandleModel);
    public const string TypedHandleDiagnostics = nameof(TypedHandleDiagnostics);

    public const string DriverOpsResult = nameof(DriverOpsResult);
    public const string DriverOpsModel = nameof(DriverOpsModel);
    public const string DriverOpsDiagnostics = nameof(DriverOpsDiagnostics);
    public const string DomainOpsResult = nameof(DomainOpsResult);
    public const string DomainOpsModel = nameof(DomainOpsModel);
    public const string DomainOpsDiagnostics = nameof(DomainOpsDiagnostics);
    public const string IommuOpMemberDiagnostics = nameof(IommuOpMemberDiagnostics);
    public const string DomainOpMemberDiagnostics = nameof(DomainOpMemberDiagnostics);
}
