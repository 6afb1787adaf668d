using System;
using System.Collections.Generic;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// The selftest's access fd (<c>selftest_access</c>): a software access on an IOAS whose pins are numbered "items".
/// Its unmap callback drops every item the unmapped range touches, as a well-behaved driver must; closing the fd
/// drops the rest and destroys the access.
/// </summary>
public sealed class MockSelftestAccess : IUapiFile, IAccessOps
{
    private readonly List<(uint Id, ulong Iova, ulong Length)> _items = new();
    private uint _nextId;

    internal MockSelftestAccess(bool needsPinPages) => NeedsPinPages = needsPinPages;

    /// <inheritdoc />
    public bool NeedsPinPages { get; }

    /// <summary>The access, once created and attached.</summary>
    public IommufdAccess? Access { get; internal set; }

    /// <summary>The pinned items: id, IOVA and length.</summary>
    public IReadOnlyList<(uint Id, ulong Iova, ulong Length)> Items => _items;

    /// <inheritdoc />
    public void Unmap(IommufdAccess access, Iova iova, ulong length)
    {
        ArgumentNullException.ThrowIfNull(access);
        var last = iova.Value + (length - 1);
        for (var i = _items.Count - 1; i >= 0; i--)
        {
            var item = _items[i];
            if (iova.Value > item.Iova + (item.Length - 1) || last < item.Iova)
            {
                continue;
            }

            _items.RemoveAt(i);
            access.UnpinPages(new Iova(item.Iova), item.Length);
        }
    }

    /// <inheritdoc />
    public int Ioctl(uint request, Span<byte> arg) => Errno.ENOTTY.ToNegative();

    /// <inheritdoc />
    public int Ioctl(uint request, ulong value) => Errno.ENOTTY.ToNegative();

    /// <inheritdoc />
    public void Release()
    {
        if (Access is { IsDestroyed: false } access)
        {
            Unmap(access, Iova.Zero, ulong.MaxValue);
            access.Destroy();
        }

        Access = null;
    }

    internal Errno ReplaceIoas(uint ioasId)
    {
        if (!IoasidId.IsValid(ioasId))
        {
            return Errno.ENOENT;
        }

        Access!.Replace(new IoasidId(ioasId));
        return Errno.None;
    }

    /// <summary>ACCESS_PAGES: pins the range; with a user pointer, the pinned frames must be that memory's (EBADE).</summary>
    internal Errno PinPages(UserAddressSpace mm, ulong iova, ulong length, ulong uptr, bool write, out uint itemId)
    {
        itemId = 0;
        var access = Access!;
        if (!NeedsPinPages)
        {
            return Errno.EOPNOTSUPP;
        }

        // One slot per CPU page the range touches (ALIGN(iova + length) - ALIGN_DOWN(iova)); a bad range gets none
        // and the pin reports why.
        var pageCount = 0;
        if (length != 0 && iova <= ulong.MaxValue - (length - 1))
        {
            var lastByte = iova + (length - 1);
            pageCount = (int)((lastByte >> AddressMath.PageShift) - (iova >> AddressMath.PageShift) + 1);
        }

        var pages = new PhysAddr[pageCount];
        access.PinPages(new Iova(iova), length, pages, write);
        if (uptr != 0)
        {
            var va = uptr - (iova % AddressMath.PageSize);
            for (var i = 0; i < pages.Length; i++)
            {
                var errno = MockSelftest.UserFrame(mm, va + ((ulong)i << AddressMath.PageShift), out var frame);
                if (errno == Errno.None && frame != pages[i])
                {
                    errno = Errno.EBADE;
                }

                if (errno != Errno.None)
                {
                    access.UnpinPages(new Iova(iova), length);
                    return errno;
                }
            }
        }

        itemId = _nextId++;
        _items.Add((itemId, iova, length));
        return Errno.None;
    }

    internal Errno DestroyItem(uint itemId)
    {
        var index = _items.FindIndex(item => item.Id == itemId);
        if (index < 0)
        {
            return Errno.ENOENT;
        }

        var item = _items[index];
        _items.RemoveAt(index);
        Access!.UnpinPages(new Iova(item.Iova), item.Length);
        return Errno.None;
    }
}
