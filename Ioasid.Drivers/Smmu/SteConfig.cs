namespace Ioasid.Drivers.Smmu;

/// <summary>STE.Config, qw0[3:1] (drivers.md §3.4). 0b001–0b011 are reserved and treated as abort.</summary>
public enum SteConfig
{
    /// <summary>0b000: abort every transaction, silently (no event).</summary>
    Abort = 0b000,

    /// <summary>0b100: bypass both stages.</summary>
    Bypass = 0b100,

    /// <summary>0b101: stage 1 translates, stage 2 bypassed.</summary>
    S1Translate = 0b101,

    /// <summary>0b110: stage 1 bypassed, stage 2 translates.</summary>
    S2Translate = 0b110,

    /// <summary>0b111: both stages (nested).</summary>
    Nested = 0b111,
}

/// <summary>STE.S1DSS, qw1[1:0]: what SSID-less traffic does when S1CDMax &gt; 0 (drivers.md §3.4.1).</summary>
public enum S1Dss
{
    /// <summary>0b00: terminate, with F_STREAM_DISABLED.</summary>
    Terminate = 0,

    /// <summary>0b01: stage 1 bypassed (stage 2 still applies).</summary>
    Bypass = 1,

    /// <summary>0b10: use CD 0; a transaction carrying SubstreamID 0 is then illegal (C_BAD_SUBSTREAMID).</summary>
    Substream0 = 2,
}

/// <summary>STE.S1Fmt, qw0[5:4]: the CD table layout.</summary>
public enum CdTableFormat
{
    /// <summary>0: a linear table of 2^S1CDMax CDs.</summary>
    Linear = 0,

    /// <summary>1: two levels, 4 KiB leaf tables of 64 CDs.</summary>
    TwoLevel4K = 1,

    /// <summary>2: two levels, 64 KiB leaf tables of 1024 CDs.</summary>
    TwoLevel64K = 2,
}
