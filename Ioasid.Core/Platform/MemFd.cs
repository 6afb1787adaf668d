using System;

namespace Ioasid.Core.Platform;

/// <summary>
/// A memfd: an anonymous shmem file whose pages (its page cache) are frames assigned on first write or pin. Every
/// shared mapping of it (<see cref="UserAddressSpace.MapFile"/>) sees the same frames, and iommufd's
/// <c>IOMMU_IOAS_MAP_FILE</c> pins them by file offset (<c>memfd_pin_folios</c>) with no address space involved.
/// </summary>
/// <remarks>
/// <para>
/// Lifetime is reference counted like a <c>struct file</c>: creation hands the caller one reference (the descriptor),
/// each mapping holds one, and holders such as iommufd take their own with <see cref="AddReference"/>. The last
/// <see cref="Release"/> frees the pages; pinned ones live on until unpinned.
/// </para>
/// <para>Seals are not modelled, so every page is writable and a write pin succeeds wherever a read pin does.</para>
/// </remarks>
public sealed class MemFd
{
    private readonly PhysicalMemory _memory;
    private readonly SparsePageArray _pages = new(0);
    private ulong _size;
    private int _references = 1;

    internal MemFd(PhysicalMemory memory, string name)
    {
        _memory = memory;
        Name = name;
    }

    /// <summary>The name given to <c>memfd_create</c> (shown as <c>/memfd:name</c>).</summary>
    public string Name { get; }

    /// <summary>The file size in bytes.</summary>
    public ulong Size
    {
        get
        {
            lock (_memory.Sync)
            {
                return _size;
            }
        }
    }

    /// <summary>The number of file pages that have a frame (the file's resident set).</summary>
    public ulong ResidentPages
    {
        get
        {
            lock (_memory.Sync)
            {
                return _pages.CountAssigned(0, PageCountLocked);
            }
        }
    }

    /// <summary>The number of references: the descriptor, mappings and other holders. 0 once released.</summary>
    public int ReferenceCount
    {
        get
        {
            lock (_memory.Sync)
            {
                return _references;
            }
        }
    }

    /// <summary>The number of pages the file covers, a partial last page included (pages at or past it are beyond EOF).</summary>
    internal ulong PageCountLocked => (_size + AddressMath.PageSize - 1) >> AddressMath.PageShift;

    /// <summary>Takes another reference (the kernel's <c>get_file</c>), e.g. for an IOAS mapping of the file.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EBADF"/>: the file was already released.</exception>
    public MemFd AddReference()
    {
        lock (_memory.Sync)
        {
            AddReferenceLocked();
        }

        return this;
    }

    /// <summary>Drops a reference (<c>fput</c>, or <c>close</c> for the descriptor's); the last one frees the file's pages.</summary>
    /// <exception cref="InvalidOperationException">No reference is left to drop.</exception>
    public void Release()
    {
        lock (_memory.Sync)
        {
            ReleaseLocked();
        }
    }

    /// <summary>
    /// <c>ftruncate</c>: sets the size. Growing adds holes that read as zeros. Shrinking frees the pages past the new
    /// end (pinned ones live until unpinned) and zeroes the tail of a partial last page, as shmem does; mapped
    /// accesses past the new end fault.
    /// </summary>
    /// <exception cref="IoasidException"><see cref="Errno.EBADF"/>: the file was released.</exception>
    public void Truncate(ulong size)
    {
        lock (_memory.Sync)
        {
            RequireOpen();
            if (size < _size)
            {
                ulong keptPages = (size + AddressMath.PageSize - 1) >> AddressMath.PageShift;
                _pages.ReleaseRange(keptPages, PageCountLocked, _memory.Frames);
                ulong tail = size & (AddressMath.PageSize - 1);
                ulong lastPfn = tail == 0 ? 0 : _pages.Get(keptPages - 1);
                if (lastPfn != 0)
                {
                    _memory.FrameBytes(lastPfn)[(int)tail..].Clear();
                }

                _size = size;
                UserAddressSpace.FileShrunkLocked(_memory, this); // CPU page tables mapping the file drop the freed pages
            }
            else
            {
                _pages.EnsureCapacity((size + AddressMath.PageSize - 1) >> AddressMath.PageShift);
            }

            _size = size;
        }
    }

    /// <summary><c>pread</c>: copies file bytes from <paramref name="offset"/>; stops at end of file.</summary>
    /// <returns>The number of bytes read: fewer than asked at end of file, 0 at or past it.</returns>
    /// <exception cref="IoasidException"><see cref="Errno.EBADF"/>: the file was released.</exception>
    public int Read(ulong offset, Span<byte> destination)
    {
        lock (_memory.Sync)
        {
            RequireOpen();
            if (offset >= _size)
            {
                return 0;
            }

            int total = (int)Math.Min((ulong)destination.Length, _size - offset);
            destination = destination[..total];
            while (!destination.IsEmpty)
            {
                int inPage = (int)(offset & (AddressMath.PageSize - 1));
                int chunk = Math.Min(destination.Length, (int)AddressMath.PageSize - inPage);
                ulong pfn = _pages.Get(offset >> AddressMath.PageShift);
                if (pfn == 0)
                {
                    destination[..chunk].Clear();
                }
                else
                {
                    _memory.FrameBytesForRead(pfn).Slice(inPage, chunk).CopyTo(destination);
                }

                offset += (ulong)chunk;
                destination = destination[chunk..];
            }

            return total;
        }
    }

    /// <summary><c>pwrite</c>: copies <paramref name="source"/> into the file at <paramref name="offset"/>, growing it as needed.</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EBADF"/>: the file was released; <see cref="Errno.EINVAL"/>: the end offset overflows; <see cref="Errno.ENOMEM"/>: no frames (the size is unchanged).</exception>
    public void Write(ulong offset, ReadOnlySpan<byte> source)
    {
        lock (_memory.Sync)
        {
            RequireOpen();
            if (source.IsEmpty)
            {
                return;
            }

            if (offset > ulong.MaxValue - AddressMath.PageSize - (ulong)source.Length)
            {
                throw new IoasidException(Errno.EINVAL, $"pwrite to memfd '{Name}' at 0x{offset:X} overflows the file offset.");
            }

            ulong end = offset + (ulong)source.Length;
            ulong firstPage = offset >> AddressMath.PageShift;
            ulong endPage = (end + AddressMath.PageSize - 1) >> AddressMath.PageShift;
            _pages.EnsureCapacity(endPage);
            // Assign every frame first so a failure writes nothing.
            for (ulong page = firstPage; page < endPage; page++)
            {
                if (!TryFrameLocked(page, out _))
                {
                    throw new IoasidException(Errno.ENOMEM, $"No free frame for page {page} of memfd '{Name}'.");
                }
            }

            while (!source.IsEmpty)
            {
                int inPage = (int)(offset & (AddressMath.PageSize - 1));
                int chunk = Math.Min(source.Length, (int)AddressMath.PageSize - inPage);
                source[..chunk].CopyTo(_memory.FrameBytes(_pages.Get(offset >> AddressMath.PageShift))[inPage..]);
                offset += (ulong)chunk;
                source = source[chunk..];
            }

            _size = Math.Max(_size, end);
        }
    }

    /// <summary>
    /// Pins <paramref name="pages"/> file pages from byte <paramref name="fileOffset"/> (<c>memfd_pin_folios</c>): all or
    /// nothing. Frames are assigned to holes in place; each page's pin count goes up by one and its PFN is written to
    /// <paramref name="pfnsOut"/>. Undo with <see cref="Unpin"/>. Allocates nothing per page.
    /// </summary>
    /// <param name="fileOffset">A page-aligned byte offset in the file.</param>
    /// <param name="pages">The number of 4 KiB pages.</param>
    /// <param name="write">Whether the device will write; without seals every page is writable.</param>
    /// <param name="pfnsOut">Receives the PFNs; at least <paramref name="pages"/> long.</param>
    /// <returns>
    /// <see cref="Errno.None"/>; <see cref="Errno.EBADF"/> for a released file; <see cref="Errno.EINVAL"/> for a
    /// misaligned offset or a range past the end of the file; <see cref="Errno.ENOMEM"/> when frames run out.
    /// On failure no pin is taken.
    /// </returns>
    [MustUseResult]
    public Errno TryPin(ulong fileOffset, ulong pages, bool write, Span<ulong> pfnsOut)
    {
        _ = write;
        if ((ulong)pfnsOut.Length < pages)
        {
            throw new ArgumentException($"The PFN buffer holds {pfnsOut.Length} entries, fewer than the {pages} pages to pin.", nameof(pfnsOut));
        }

        lock (_memory.Sync)
        {
            if (_references == 0)
            {
                return Errno.EBADF;
            }

            if ((fileOffset & (AddressMath.PageSize - 1)) != 0)
            {
                return Errno.EINVAL;
            }

            ulong first = fileOffset >> AddressMath.PageShift;
            ulong count = PageCountLocked;
            if (first > count || pages > count - first)
            {
                return Errno.EINVAL;
            }

            for (ulong i = 0; i < pages; i++)
            {
                if (!TryFrameLocked(first + i, out ulong pfn))
                {
                    return Errno.ENOMEM;
                }

                pfnsOut[(int)i] = pfn;
            }

            for (int i = 0; i < (int)pages; i++)
            {
                _memory.Frames.PinLocked(pfnsOut[i]);
            }

            return Errno.None;
        }
    }

    /// <summary>Drops the pins <see cref="TryPin"/> took (<c>unpin_folios</c>); same as <see cref="FrameAllocator.Unpin"/>.</summary>
    public void Unpin(ReadOnlySpan<ulong> pfns) => _memory.Frames.Unpin(pfns);

    /// <inheritdoc/>
    public override string ToString() => $"/memfd:{Name}";

    /// <summary>The frame of file page <paramref name="page"/>, or 0 for a hole.</summary>
    internal ulong FrameAtLocked(ulong page) => _pages.Get(page);

    /// <summary>The frame of file page <paramref name="page"/>, assigning a zeroed one to a hole; false when frames run out.</summary>
    internal bool TryFrameLocked(ulong page, out ulong pfn)
    {
        ref ulong slot = ref _pages.Slot(page);
        if (slot == 0 && !_memory.Frames.TryAllocateLocked(out slot))
        {
            pfn = 0;
            return false;
        }

        pfn = slot;
        return true;
    }

    /// <summary>Whether the file is still referenced, under <see cref="PhysicalMemory.Sync"/>.</summary>
    internal bool IsOpenLocked => _references > 0;

    internal void AddReferenceLocked()
    {
        RequireOpen();
        _references++;
    }

    internal void ReleaseLocked()
    {
        if (_references == 0)
        {
            throw new InvalidOperationException($"memfd '{Name}' has no reference left to release.");
        }

        if (--_references == 0)
        {
            _pages.ReleaseRange(0, PageCountLocked, _memory.Frames);
        }
    }

    private void RequireOpen()
    {
        if (_references == 0)
        {
            throw new IoasidException(Errno.EBADF, $"memfd '{Name}' has been released.");
        }
    }
}
