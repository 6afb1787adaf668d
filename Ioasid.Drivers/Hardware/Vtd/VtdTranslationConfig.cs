namespace Ioasid.Drivers.Hardware.Vtd;

/// <summary>What a (source id, PASID) resolves to once the context and PASID entries are read.</summary>
public enum VtdTranslationKind : byte
{
    /// <summary>Output = input (legacy TT = 10b, PGTT = 100b).</summary>
    PassThrough,

    /// <summary>Second-stage walk.</summary>
    SecondStage,

    /// <summary>First-stage walk.</summary>
    FirstStage,

    /// <summary>First stage nested on a second stage.</summary>
    Nested,
}

/// <summary>
/// The translation configuration the hardware derived for one requester from its root, context and (scalable mode)
/// PASID entries: what the context and PASID caches together let it skip on the next request.
/// </summary>
/// <param name="Kind">Which walk.</param>
/// <param name="DomainId">The DID the IOTLB tags translations with.</param>
/// <param name="Pasid">The PASID the IOTLB tags translations with (RID_PASID for RID traffic; 0 in legacy mode).</param>
/// <param name="SecondStageRoot">SLPTPTR / SSPTPTR.</param>
/// <param name="SecondStageLevels">3, 4 or 5.</param>
/// <param name="FirstStageRoot">FSPTPTR (a stage-2 input address when nested).</param>
/// <param name="FirstStageLevels">4 or 5.</param>
/// <param name="FaultProcessingDisabled">FPD of the context, PASID-directory or PASID entry.</param>
/// <param name="Scalable">Whether it came from scalable-mode tables (selects the interrupt-range fault code).</param>
/// <param name="SecondStageAccessDirty">SSADE of the PASID entry: second-stage walks set A, and D on writes (dirty tracking).</param>
public readonly record struct VtdTranslationConfig(
    VtdTranslationKind Kind,
    ushort DomainId,
    uint Pasid,
    PhysAddr SecondStageRoot,
    int SecondStageLevels,
    PhysAddr FirstStageRoot,
    int FirstStageLevels,
    bool FaultProcessingDisabled,
    bool Scalable,
    bool SecondStageAccessDirty = false)
{
    /// <summary>
    /// Whether the context entry lets the requester use ATS (translation requests and translated requests): legacy
    /// TT = 01b, or scalable-mode DTE, on a unit with ECAP.DT.
    /// </summary>
    public bool AtsAllowed { get; init; }

    /// <summary>The IOTLB tag of this configuration's translations.</summary>
    public ulong Tag => VtdIotlbTag.Compose(DomainId, Pasid, Kind is VtdTranslationKind.FirstStage or VtdTranslationKind.Nested);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        VtdTranslationKind.PassThrough => $"pass-through did {DomainId}",
        VtdTranslationKind.SecondStage => $"second-stage did {DomainId} pasid {Pasid} root {SecondStageRoot} {SecondStageLevels}-level",
        VtdTranslationKind.FirstStage => $"first-stage did {DomainId} pasid {Pasid} root {FirstStageRoot} {FirstStageLevels}-level",
        _ => $"nested did {DomainId} pasid {Pasid} s1 {FirstStageRoot} {FirstStageLevels}-level over s2 {SecondStageRoot} {SecondStageLevels}-level",
    } + (SecondStageAccessDirty ? " ssade" : string.Empty);
}
