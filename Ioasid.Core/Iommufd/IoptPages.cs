using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// The memory behind one IOAS_MAP (the kernel's <c>struct iopt_pages</c>): a byte range of a process's address
/// space or of a memfd, shared by every area that maps it (COPY adds areas, not pages). Nothing is pinned or
/// even looked at until a domain or an access needs the pages (spec §5.1), so a map of 1 GiB costs the same as
/// a map of 4 KiB.
/// </summary>
internal sealed class IoptPages
{
    private IoptPages(UserProcess owner, ulong sourceAddress, ulong length, bool writable, MemFd? file)
    {
        Owner = owner;
        SourceAddress = sourceAddress;
        Length = length;
        Writable = writable;
        File = file;
        Refs = 1;
    }

    /// <summary>The process whose memory (or whose accounting, for a file) the pages belong to.</summary>
    public UserProcess Owner { get; }

    /// <summary>The memfd the pages come from, or null for user memory.</summary>
    public MemFd? File { get; }

    /// <summary>The user VA (or file offset) of the first byte.</summary>
    public ulong SourceAddress { get; }

    /// <summary>The number of bytes.</summary>
    public ulong Length { get; }

    /// <summary>Whether the pages were created writable; COPY with WRITEABLE of read-only pages → EPERM.</summary>
    public bool Writable { get; }

    /// <summary>The number of areas that map these pages.</summary>
    public int Refs { get; private set; }

    public static IoptPages FromUser(UserProcess owner, ulong userVa, ulong length, bool writable) =>
        new(owner, userVa, length, writable, file: null);

    public static IoptPages FromFile(UserProcess owner, MemFd file, ulong offset, ulong length, bool writable) =>
        new(owner, offset, length, writable, file);

    public void AddRef() => Refs++;

    public void Release() => Refs--;
}
