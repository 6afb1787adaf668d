using System;

namespace Ioasid.Core.Platform;

/// <summary>Protection of a user mapping, with the values of <c>PROT_*</c> in <c>mman-common.h</c>.</summary>
[Flags]
public enum UserProt
{
    /// <summary><c>PROT_NONE</c>: no access; every access and every pin faults.</summary>
    None = 0,

    /// <summary><c>PROT_READ</c>: the CPU may read and GUP may pin for reading.</summary>
    Read = 1,

    /// <summary><c>PROT_WRITE</c>: the CPU may write and GUP may pin with <c>FOLL_WRITE</c>.</summary>
    Write = 2,

    /// <summary><c>PROT_EXEC</c>: recorded only; the model executes nothing.</summary>
    Exec = 4,

    /// <summary><c>PROT_READ | PROT_WRITE</c>: ordinary data memory.</summary>
    ReadWrite = Read | Write,
}
