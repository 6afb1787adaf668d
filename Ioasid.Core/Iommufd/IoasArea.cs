namespace Ioasid.Core.Iommufd;

/// <summary>
/// One mapped IOVA interval of an IOAS (the kernel's <c>struct iopt_area</c>): a slice of an <see cref="IoptPages"/>
/// starting <see cref="PagesOffset"/> bytes into it, with the protection it was mapped with.
/// </summary>
internal sealed class IoasArea(IoptPages pages, ulong pagesOffset, IoasMapFlags protection)
{
    public IoptPages Pages { get; } = pages;

    /// <summary>Byte offset of the area's first IOVA inside <see cref="Pages"/>.</summary>
    public ulong PagesOffset { get; } = pagesOffset;

    /// <summary>READABLE and/or WRITEABLE.</summary>
    public IoasMapFlags Protection { get; } = protection;

    /// <summary>The source address (user VA or file offset) behind the area's first IOVA.</summary>
    public ulong SourceAddress => Pages.SourceAddress + PagesOffset;

    /// <summary>How many access pins (pin_pages calls) hold pages of this area (<c>num_accesses</c>).</summary>
    public int AccessPins { get; set; }

    /// <summary>Set while an unmap waits for accesses to unpin: new pins and rw on the area fail with EINVAL.</summary>
    public bool PreventAccess { get; set; }
}
