namespace Ioasid.Drivers.Smmu;

/// <summary>Which translation stage a paging domain's table is.</summary>
public enum SmmuStage
{
    /// <summary>Stage 1: tagged by an ASID, installed through CDs.</summary>
    Stage1 = 1,

    /// <summary>Stage 2: tagged by a VMID, installed in the STE.</summary>
    Stage2 = 2,
}
