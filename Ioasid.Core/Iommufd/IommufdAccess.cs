using System;
using System.Collections.Generic;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A software access to an IOAS (the kernel's <c>struct iommufd_access</c>): how a mediated device's parent driver
/// reaches guest memory without an IOMMU domain. It pins pages by IOVA and reads or writes through the IOAS, and
/// it must honour the unmap callback of its <see cref="IAccessOps"/>. The creating driver holds a reference, so
/// IOMMU_DESTROY of an access is EBUSY; the driver ends it with <see cref="Destroy"/>.
/// </summary>
public sealed class IommufdAccess : IommufdObject
{
    private const int MaxUnmapRetries = 100;
    private readonly List<(ulong Iova, ulong Length)> _pins = new();

    internal IommufdAccess(IommufdContext context, IoasidId id, IAccessOps ops)
        : base(context, id)
    {
        Ops = ops;
    }

    /// <inheritdoc />
    public override ObjectKind Kind => ObjectKind.Access;

    /// <summary>The driver's callbacks.</summary>
    public IAccessOps Ops { get; }

    /// <summary>The IOAS the access is attached to, or null.</summary>
    public Ioas? Ioas { get; private set; }

    /// <summary>The ranges pinned now, as (iova, length) pairs in pin order.</summary>
    public IReadOnlyList<(Iova Iova, ulong Length)> Pins
    {
        get
        {
            lock (Context.Sync)
            {
                return _pins.ConvertAll(p => (new Iova(p.Iova), p.Length));
            }
        }
    }

    internal static int UnmapRetryLimit => MaxUnmapRetries;

    /// <summary>Attaches to the IOAS <paramref name="ioasId"/>: EINVAL when already attached, ENOENT for a bad id, EADDRINUSE when the access's alignment does not fit existing mappings.</summary>
    public void Attach(IoasidId ioasId)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            if (Ioas is not null)
            {
                throw new IoasidException(Errno.EINVAL, $"access {Id} is already attached to IOAS {Ioas.Id}");
            }

            var ioas = Context.Lookup<Ioas>(ioasId.Value);
            ioas.AddAccess(this);
            Ioas = ioas;
        }
    }

    /// <summary>Moves the access to another IOAS; everything pinned on the old one is unmapped first. ENOENT when not attached.</summary>
    public void Replace(IoasidId ioasId)
    {
        lock (Context.Sync)
        {
            ThrowIfDestroyed();
            var old = Ioas ?? throw new IoasidException(Errno.ENOENT, $"access {Id} is not attached");
            var next = Context.Lookup<Ioas>(ioasId.Value);
            if (ReferenceEquals(next, old))
            {
                return;
            }

            next.CheckAccessFits(this);
            UnmapEverything();
            old.RemoveAccess(this);
            next.AddAccess(this);
            Ioas = next;
        }
    }

    /// <summary>Detaches from the IOAS: asks the driver to unmap (unpin) everything, then lets go of the IOAS.</summary>
    public void Detach()
    {
        lock (Context.Sync)
        {
            if (Ioas is null)
            {
                return;
            }

            UnmapEverything();
            Ioas.RemoveAccess(this);
            Ioas = null;
        }
    }

    /// <summary>
    /// <c>iommufd_access_pin_pages</c>: pins the pages behind <c>[iova, iova + length)</c> and writes one frame
    /// address per 4 KiB page into <paramref name="pages"/>. EINVAL for zero length, a range that does not start
    /// and end on page boundaries of the memory, or an area being unmapped; EOVERFLOW; ENOENT when not attached or
    /// not fully mapped; EPERM when the mapping's protection forbids the access; EFAULT/ENOMEM from pinning.
    /// </summary>
    public void PinPages(Iova iova, ulong length, Span<PhysAddr> pages, bool write)
    {
        lock (Context.Sync)
        {
            var ioas = CheckRange(iova, length);
            var segments = ioas.CollectForAccess(iova.Value, length, write);
            ulong needed = 0;
            foreach (var segment in segments)
            {
                if (((segment.Area.SourceAddress + segment.Offset) & (AddressMath.PageSize - 1)) != 0
                    || (segment.Length & (AddressMath.PageSize - 1)) != 0)
                {
                    throw new IoasidException(Errno.EINVAL, "pin_pages needs whole pages of the memory behind the IOVA range");
                }

                needed += segment.Length >> AddressMath.PageShift;
            }

            if ((ulong)pages.Length < needed)
            {
                throw new ArgumentException($"{needed} page slots are needed", nameof(pages));
            }

            var done = 0;
            try
            {
                var outIndex = 0;
                foreach (var segment in segments)
                {
                    var pagesObj = segment.Area.Pages;
                    var first = pagesObj.PageIndexOf(segment.Area.PagesOffset + segment.Offset);
                    var last = first + (segment.Length >> AddressMath.PageShift) - 1;
                    var errno = pagesObj.AddUsers(first, last);
                    if (errno != Errno.None)
                    {
                        throw new IoasidException(errno, errno == Errno.ENOMEM ? "the memlock limit would be exceeded" : "the memory behind the range cannot be pinned");
                    }

                    segment.Area.AccessPins++;
                    done++;
                    for (var i = first; i <= last; i++)
                    {
                        pages[outIndex++] = PhysAddr.FromFrame(pagesObj.Pfn(i));
                    }
                }
            }
            catch
            {
                for (var k = 0; k < done; k++)
                {
                    ReleaseSegment(segments[k]);
                }

                throw;
            }

            _pins.Add((iova.Value, length));
        }
    }

    /// <summary><c>iommufd_access_unpin_pages</c>: releases a range pinned by <see cref="PinPages"/>, with exactly the same iova and length (EINVAL otherwise).</summary>
    public void UnpinPages(Iova iova, ulong length)
    {
        lock (Context.Sync)
        {
            var index = _pins.IndexOf((iova.Value, length));
            if (index < 0 || Ioas is null)
            {
                throw new IoasidException(Errno.EINVAL, $"[{iova}, +0x{length:x}) was not pinned by access {Id} with this iova and length");
            }

            foreach (var segment in Ioas.CollectContiguous(iova.Value, length))
            {
                ReleaseSegment(segment);
            }

            _pins.RemoveAt(index);
        }
    }

    /// <summary>
    /// <c>iommufd_access_rw</c>: copies between <paramref name="buffer"/> and the memory behind the IOVA range, with
    /// the same range and protection checks as <see cref="PinPages"/>; pages are pinned for the copy only.
    /// </summary>
    public void Read(Iova iova, Span<byte> buffer) => ReadWrite(iova, buffer, write: false);

    /// <summary>Writes <paramref name="buffer"/> through the IOAS at <paramref name="iova"/>; see <see cref="Read"/>.</summary>
    public void Write(Iova iova, ReadOnlySpan<byte> buffer)
    {
        var copy = buffer.ToArray();
        ReadWrite(iova, copy, write: true);
    }

    /// <summary>
    /// <c>iommufd_access_destroy</c>: the driver ends the access. It is detached (its unmap callback asked to
    /// unpin everything), then removed from the context.
    /// </summary>
    public void Destroy()
    {
        lock (Context.Sync)
        {
            if (IsDestroyed)
            {
                return;
            }

            Detach();
            RemoveUser(); // the driver's reference
            Context.RemoveDriverOwned(this);
        }
    }

    private protected override void Release()
    {
        if (Ioas is not null)
        {
            UnmapEverything();
            Ioas.RemoveAccess(this);
            Ioas = null;
        }
    }

    private void ReadWrite(Iova iova, Span<byte> buffer, bool write)
    {
        lock (Context.Sync)
        {
            var length = (ulong)buffer.Length;
            var ioas = CheckRange(iova, length);
            var segments = ioas.CollectForAccess(iova.Value, length, write);
            var memory = Context.Process.Machine.Memory;
            var done = 0;
            foreach (var segment in segments)
            {
                var pagesObj = segment.Area.Pages;
                var startByte = segment.Area.PagesOffset + segment.Offset;
                var first = pagesObj.PageIndexOf(startByte);
                var last = pagesObj.PageIndexOf(startByte + segment.Length - 1);
                var errno = pagesObj.AddUsers(first, last);
                if (errno != Errno.None)
                {
                    throw new IoasidException(errno, "the memory behind the range cannot be pinned");
                }

                try
                {
                    var offsetInPage = (pagesObj.SourceAddress + startByte) & (AddressMath.PageSize - 1);
                    var remaining = buffer.Slice(done, (int)segment.Length);
                    for (var page = first; page <= last && remaining.Length > 0; page++)
                    {
                        var chunk = (int)Math.Min((ulong)remaining.Length, AddressMath.PageSize - offsetInPage);
                        var physical = PhysAddr.FromFrame(pagesObj.Pfn(page)) + offsetInPage;
                        if (write)
                        {
                            memory.Write(physical, remaining[..chunk]);
                        }
                        else
                        {
                            memory.Read(physical, remaining[..chunk]);
                        }

                        remaining = remaining[chunk..];
                        offsetInPage = 0;
                    }
                }
                finally
                {
                    pagesObj.RemoveUsers(first, last);
                }

                done += (int)segment.Length;
            }
        }
    }

    private Ioas CheckRange(Iova iova, ulong length)
    {
        ThrowIfDestroyed();
        if (length == 0)
        {
            throw new IoasidException(Errno.EINVAL, "length is 0");
        }

        if (iova.Value > ulong.MaxValue - (length - 1))
        {
            throw new IoasidException(Errno.EOVERFLOW, "iova + length overflows");
        }

        return Ioas ?? throw new IoasidException(Errno.ENOENT, $"access {Id} is not attached to an IOAS");
    }

    private static void ReleaseSegment((IoasArea Area, ulong Offset, ulong Length) segment)
    {
        var pagesObj = segment.Area.Pages;
        var first = pagesObj.PageIndexOf(segment.Area.PagesOffset + segment.Offset);
        pagesObj.RemoveUsers(first, first + (segment.Length >> AddressMath.PageShift) - 1);
        segment.Area.AccessPins--;
    }

    /// <summary>
    /// Ends the access on behalf of a driver that is gone (the context is closing): its unmap callback is asked
    /// as usual, and pins it still holds afterwards are released by force so every page is returned.
    /// </summary>
    internal void Revoke()
    {
        try
        {
            Detach();
        }
        catch (IoasidException error) when (error.Errno == Errno.EDEADLK)
        {
            foreach (var pin in _pins.ToArray())
            {
                foreach (var segment in Ioas!.CollectContiguous(pin.Iova, pin.Length))
                {
                    ReleaseSegment(segment);
                }
            }

            _pins.Clear();
            Ioas!.RemoveAccess(this);
            Ioas = null;
        }

        RemoveUser();
        Context.RemoveDriverOwned(this);
    }

    private void UnmapEverything()
    {
        for (var tries = 0; _pins.Count > 0; tries++)
        {
            if (tries > MaxUnmapRetries)
            {
                throw new IoasidException(Errno.EDEADLK, $"access {Id} keeps pages pinned after {MaxUnmapRetries} unmap requests");
            }

            Ops.Unmap(this, Iova.Zero, ulong.MaxValue);
        }
    }

    private void ThrowIfDestroyed()
    {
        if (IsDestroyed)
        {
            throw new IoasidException(Errno.ENOENT, $"access {Id} has been destroyed");
        }
    }
}
