namespace Ioasid.Generators.Diagnostics;

/// <summary>Every generator diagnostic id, in one place. Generator ids are IOAG0xx; analyzer ids are IOA0xx.</summary>
internal static class DiagnosticIds
{
    public const string HandleNotPartial = "IOAG001";
    public const string HandleUnsupportedUnderlyingType = "IOAG002";
    public const string HandleInvalidRange = "IOAG003";
    public const string HandleConstantOutOfRange = "IOAG004";
    public const string HandleNested = "IOAG005";
    public const string HandleDuplicateConstant = "IOAG006";

    public const string OpsTypeNotPartial = "IOAG010";
    public const string OpsRequiredOpMissing = "IOAG011";
    public const string OpsWrongSignature = "IOAG012";
    public const string OpsDuplicateOp = "IOAG013";
    public const string OpsMisplacedOp = "IOAG014";
    public const string DomainOpsNotIommuDomain = "IOAG015";
    public const string DomainDirtyOpsUnpaired = "IOAG016";
    public const string OpsTypeUnsupported = "IOAG017";
}
