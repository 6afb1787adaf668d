using Ioasid.Drivers.Smmu;

namespace Ioasid.Drivers.Hardware.Smmu;

/// <summary>
/// Everything one VMSAv8-64 walk needs, decoded from a CD (stage 1) or an STE (stage 2): the table base, granule,
/// input size, start level (with the number of index bits it resolves, more than a stride when stage-2 tables are
/// concatenated), output size and the flags that change the checks.
/// </summary>
/// <param name="Ttb">The start-level table (TTB0 or S2TTB).</param>
/// <param name="Granule">The granule.</param>
/// <param name="InputBits">The input size: 64 − TxSZ.</param>
/// <param name="StartLevel">The level of the first lookup.</param>
/// <param name="OutputBits">The effective output size: min(IPS or S2PS, OAS).</param>
/// <param name="Stage2">Whether this is a stage-2 walk (S2AP permissions, no APTable).</param>
/// <param name="AccessFlagFaultDisable">AFFD / S2AFFD: AF = 0 does not fault.</param>
/// <param name="HierarchicalDisable">HAD0: APTable bits are ignored.</param>
/// <param name="HardwareAccess">CD.HA (with IDR0.HTTU ≥ 1): the walk sets AF instead of faulting F_ACCESS.</param>
/// <param name="HardwareDirty">CD.HA and CD.HD (with IDR0.HTTU = 2): a write to a DBM leaf clears its AP[2] (dirty state).</param>
public readonly record struct WalkContext(
    PhysAddr Ttb, TranslationGranule Granule, int InputBits, int StartLevel, int OutputBits, bool Stage2,
    bool AccessFlagFaultDisable, bool HierarchicalDisable, bool HardwareAccess = false, bool HardwareDirty = false)
{
    /// <summary>Index bits resolved at the start level: input bits minus the start level's shift.</summary>
    public int StartIndexBits => InputBits - Granule.LevelShift(StartLevel);
}
