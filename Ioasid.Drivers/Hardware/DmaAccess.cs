using System;

namespace Ioasid.Drivers.Hardware;

/// <summary>
/// What a DMA does, from the device's side: <see cref="Read"/> reads memory (memory → device), <see cref="Write"/>
/// writes memory (device → memory). As a permission (<see cref="Translation.Permissions"/>) the same bits say what a
/// translation allows.
/// </summary>
[Flags]
public enum DmaAccess
{
    /// <summary>No access; as a permission, nothing is allowed.</summary>
    None = 0,

    /// <summary>The device reads memory.</summary>
    Read = 1 << 0,

    /// <summary>The device writes memory.</summary>
    Write = 1 << 1,

    /// <summary>Both, e.g. an atomic read-modify-write; as a permission, read and write allowed.</summary>
    ReadWrite = Read | Write,
}
