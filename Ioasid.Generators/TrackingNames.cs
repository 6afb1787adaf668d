namespace Ioasid.Generators;

/// <summary>
/// Names of the tracked pipeline steps. Tests assert every one of them is cached after an unrelated edit.
/// </summary>
internal static class TrackingNames
{
    public const string TypedHandleResult = nameof(TypedHandleResult);
    public const string TypedHandleModel = nameof(TypedHandleModel);
    public const string TypedHandleDiagnostics = nameof(TypedHandleDiagnostics);
}
