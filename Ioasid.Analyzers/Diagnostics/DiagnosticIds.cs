namespace Ioasid.Analyzers.Diagnostics;

/// <summary>Every analyzer diagnostic id, in one place. Analyzer ids are IOA0xx; generator ids are IOAG0xx.</summary>
internal static class DiagnosticIds
{
    /// <summary>Prefix of every analyzer diagnostic id.</summary>
    public const string Prefix = "IOA";

    public const string MediatedDeviceInIommuLayer = "IOA001";
    public const string GroupCentricAttach = "IOA002";
    public const string PerDeviceTableInDomain = "IOA003";
    public const string HandleConstantOutOfRange = "IOA004";
    public const string UnalignedConstantIova = "IOA005";
    public const string IovaPhysAddrMixed = "IOA006";
    public const string OwnedResultIgnored = "IOA007";
    public const string NoPasidInPasidAttach = "IOA008";
    public const string IoasOnPasid = "IOA009";
}
