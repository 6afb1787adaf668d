namespace Ioasid.Drivers.Smmu;

/// <summary>Event record types, qw0[7:0] of a 32-byte event (SMMUv3 §7.3; drivers.md §3.8).</summary>
public enum SmmuEventType : byte
{
    /// <summary>Unsupported upstream transaction.</summary>
    FUut = 0x01,

    /// <summary>StreamID out of range, or an L1 STD with Span = 0.</summary>
    CBadStreamId = 0x02,

    /// <summary>External abort fetching the STE or L1 STD.</summary>
    FSteFetch = 0x03,

    /// <summary>STE V = 0 or an illegal STE configuration.</summary>
    CBadSte = 0x04,

    /// <summary>ATS translation request not allowed.</summary>
    FBadAtsTreq = 0x05,

    /// <summary>SSID-less traffic with S1DSS = Terminate.</summary>
    FStreamDisabled = 0x06,

    /// <summary>Translated transaction not allowed.</summary>
    FTranslForbidden = 0x07,

    /// <summary>SubstreamID out of range, substreams disabled, or SSID 0 under S1DSS = Substream0.</summary>
    CBadSubstreamId = 0x08,

    /// <summary>External abort fetching a CD.</summary>
    FCdFetch = 0x09,

    /// <summary>CD V = 0 or illegal CD fields.</summary>
    CBadCd = 0x0A,

    /// <summary>External abort during a table walk.</summary>
    FWalkEabt = 0x0B,

    /// <summary>Invalid descriptor, or an input outside the translated range.</summary>
    FTranslation = 0x10,

    /// <summary>Output or table address beyond the output size; input beyond the IAS with stage 1 bypassed.</summary>
    FAddrSize = 0x11,

    /// <summary>Access flag 0 without AFFD.</summary>
    FAccess = 0x12,

    /// <summary>AP / S2AP / XN violation.</summary>
    FPermission = 0x13,
}

/// <summary>CLASS, qw1[41:40] of an event: what the faulting access was doing.</summary>
public enum SmmuEventClass
{
    /// <summary>0: fetching a CD.</summary>
    CdFetch = 0,

    /// <summary>1: walking translation tables.</summary>
    TableWalk = 1,

    /// <summary>2: the input address itself.</summary>
    InputAddress = 2,
}
