using System;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// The memory behind one IOAS_MAP (the kernel's <c>struct iopt_pages</c>): a byte range of a process's address
/// space or of a memfd, shared by every area that maps it (COPY adds areas, not pages). Nothing is pinned or even
/// looked at until a domain or an access needs the pages (spec §5.1), so a map of 1 GiB costs the same as a map
/// of 4 KiB. Each page counts its users (areas filled into domains, access pins); the first user pins it and
/// charges the memlock limit, the last unpins and uncharges, so a page shared by many is pinned and charged once.
/// </summary>
internal sealed class IoptPages
{
    private const int Batch = 512;
    // Per-page state exists only once something pins: a map allocates nothing per page, or even per mapping.
    private SparsePageArray? _pfns;
    private SparsePageArray? _users;

    private IoptPages(UserProcess owner, ulong sourceAddress, ulong length, bool writable, MemFd? file, AccountMode mode)
    {
        Owner = owner;
        SourceAddress = sourceAddress;
        Length = length;
        Writable = writable;
        File = file;
        Mode = mode;
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

    /// <summary>The accounting mode, fixed when the pages were created (spec §5.2).</summary>
    public AccountMode Mode { get; }

    /// <summary>The number of areas that map these pages.</summary>
    public int Refs { get; private set; }

    /// <summary>The number of distinct pages pinned now (and charged, unless the mode is None).</summary>
    public ulong PinnedPages { get; private set; }

    /// <summary>The number of 4 KiB pages the byte range touches.</summary>
    public ulong PageCount => (SourceAddress % AddressMath.PageSize + Length + AddressMath.PageSize - 1) >> AddressMath.PageShift;

    /// <summary>The page-aligned source address of page index 0.</summary>
    private ulong FirstPageAddress => SourceAddress & ~(AddressMath.PageSize - 1);

    public static IoptPages FromUser(UserProcess owner, ulong userVa, ulong length, bool writable, AccountMode contextMode) =>
        new(owner, userVa, length, writable, file: null, ModeFor(owner, contextMode));

    public static IoptPages FromFile(UserProcess owner, MemFd file, ulong offset, ulong length, bool writable, AccountMode contextMode) =>
        new(owner, offset, length, writable, file, ModeFor(owner, contextMode));

    public void AddRef() => Refs++;

    public void Release() => Refs--;

    /// <summary>The page index of byte <paramref name="byteOffset"/> of the range.</summary>
    public ulong PageIndexOf(ulong byteOffset) => (SourceAddress % AddressMath.PageSize + byteOffset) >> AddressMath.PageShift;

    /// <summary>The frame of pinned page <paramref name="index"/>; 0 when the page is not pinned.</summary>
    public ulong Pfn(ulong index) => _pfns?.Get(index) ?? 0;

    /// <summary>
    /// Adds a user to pages <c>[first, last]</c>, pinning those that had none. All or nothing: ENOMEM when the
    /// memlock limit would be exceeded, EFAULT when the memory cannot be pinned (unmapped, read-only for a writable
    /// mapping, the process has exited); then no count, pin or charge has changed.
    /// </summary>
    public Errno AddUsers(ulong first, ulong last)
    {
        _pfns ??= new SparsePageArray(last + 1);
        _users ??= new SparsePageArray(last + 1);
        ulong newPages = 0;
        for (var i = first; i <= last; i++)
        {
            if (_users.Get(i) == 0)
            {
                newPages++;
            }
        }

        if (newPages > 0)
        {
            _pfns.EnsureCapacity(last + 1);
            _users.EnsureCapacity(last + 1);
            var charged = MemlockAccounting.TryCharge(Mode, Owner, newPages);
            if (charged != Errno.None)
            {
                return charged;
            }

            var pinned = PinUnpinned(first, last);
            if (pinned != Errno.None)
            {
                MemlockAccounting.Uncharge(Mode, Owner, newPages);
                return pinned;
            }

            Owner.Mm.AddPinned((long)newPages);
            PinnedPages += newPages;
        }

        for (var i = first; i <= last; i++)
        {
            _users.Slot(i)++;
        }

        return Errno.None;
    }

    /// <summary>Drops a user from pages <c>[first, last]</c>; pages left without users are unpinned and uncharged.</summary>
    public void RemoveUsers(ulong first, ulong last)
    {
        if (_users is null || _pfns is null)
        {
            throw new InvalidOperationException($"{this} has no pinned page to release");
        }

        Span<ulong> batch = stackalloc ulong[Batch];
        var count = 0;
        ulong released = 0;
        for (var i = first; i <= last; i++)
        {
            ref var users = ref _users.Slot(i);
            if (users == 0)
            {
                throw new InvalidOperationException($"page {i} of {this} lost a user it never had");
            }

            if (--users == 0)
            {
                ref var pfn = ref _pfns.Slot(i);
                batch[count++] = pfn;
                pfn = 0;
                released++;
                if (count == Batch)
                {
                    Unpin(batch);
                    count = 0;
                }
            }
        }

        Unpin(batch[..count]);
        if (released > 0)
        {
            MemlockAccounting.Uncharge(Mode, Owner, released);
            Owner.Mm.AddPinned(-(long)released);
            PinnedPages -= released;
        }

        if (PinnedPages == 0)
        {
            // Every count and frame slot is zero again: give the chunks back for the next mapping to use.
            _users.ReturnAllZeroedChunks();
            _pfns.ReturnAllZeroedChunks();
            _users = null;
            _pfns = null;
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        File is null ? $"pages of va 0x{SourceAddress:x}+0x{Length:x}" : $"pages of {File}+0x{SourceAddress:x}";

    // pinning runs of consecutive unpinned pages, batch by batch; undone if any run fails
    private Errno PinUnpinned(ulong first, ulong last)
    {
        var users = _users!;
        var pfns = _pfns!;
        Span<ulong> batch = stackalloc ulong[Batch];
        var i = first;
        while (i <= last)
        {
            if (users.Get(i) != 0)
            {
                i++;
                continue;
            }

            var runStart = i;
            while (i <= last && users.Get(i) == 0 && i - runStart < Batch)
            {
                i++;
            }

            var pages = i - runStart;
            var slice = batch[..(int)pages];
            var address = FirstPageAddress + (runStart << AddressMath.PageShift);
            var errno = File is null
                ? Owner.Mm.TryPin(address, pages, Writable, slice)
                : File.TryPin(address, pages, Writable, slice);
            if (errno != Errno.None)
            {
                UnpinFreshlyPinned(first, runStart);
                return errno;
            }

            for (ulong k = 0; k < pages; k++)
            {
                pfns.Slot(runStart + k) = slice[(int)k];
            }
        }

        return Errno.None;
    }

    // Undo of PinUnpinned for [first, end): pages with a frame but no user yet are the ones this call pinned.
    private void UnpinFreshlyPinned(ulong first, ulong end)
    {
        Span<ulong> one = stackalloc ulong[1];
        for (var i = first; i < end; i++)
        {
            if (_users!.Get(i) == 0 && _pfns!.Get(i) != 0)
            {
                one[0] = _pfns.Get(i);
                Unpin(one);
                _pfns.Slot(i) = 0;
            }
        }
    }

    private void Unpin(ReadOnlySpan<ulong> pfns)
    {
        if (pfns.Length == 0)
        {
            return;
        }

        if (File is null)
        {
            Owner.Mm.Unpin(pfns);
        }
        else
        {
            File.Unpin(pfns);
        }
    }

    private static AccountMode ModeFor(UserProcess owner, AccountMode contextMode)
    {
        // NONE with CAP_IPC_LOCK; otherwise USER, which an MM-mode context upgrades to MM.
        var mode = MemlockAccounting.DefaultModeFor(owner);
        return mode == AccountMode.User && contextMode == AccountMode.Mm ? AccountMode.Mm : mode;
    }
}
