using System;
using System.Collections.Generic;

namespace Ioasid.Core.Platform;

/// <summary>
/// A process's address space (the kernel's <c>mm_struct</c>): its mappings, CPU reads and writes through them, and
/// GUP-style pinning (<c>pin_user_pages</c> with <c>FOLL_LONGTERM</c>) for iommufd. Also the two page counters
/// iommufd touches: <see cref="PinnedVm"/> (VmPin) and <see cref="LockedVm"/> (VmLck).
/// </summary>
/// <remarks>
/// <para>
/// Layout follows x86-64: user addresses are [<see cref="MinAddress"/>, <see cref="TaskSize"/>); mappings without a
/// fixed address are placed top-down below <see cref="MmapBase"/>, so no mapping is ever at address 0. Mappings are
/// kept sorted by address (binary search, O(log n)); per-page state is in arrays of PFNs, never per-page objects.
/// </para>
/// <para>
/// Frames are assigned on first write or pin. Anonymous memory reads as zeros until then and is assigned zeroed
/// frames; with huge pages a naturally aligned 1 GiB or 2 MiB piece of the mapping gets one physically contiguous
/// run, as THP/hugetlb would, so IOMMU drivers can map it with superpages.
/// </para>
/// <para>
/// Copy-on-write: anonymous memory is never shared between processes here (<see cref="UserProcess.Fork"/> copies), so
/// its frames never change once assigned, and a device pinning one sees every later CPU write. A private file
/// mapping gets a private copy of a page on its first write or on any pin, as GUP's "unshare" does for long-term
/// read pins (selftest <c>ro_unshare</c>): a CPU write after a read-only pin does not change the PFN the device sees.
/// </para>
/// <para>
/// Errors follow the syscalls: <see cref="Map"/>/<see cref="MapFile"/>/<see cref="Unmap"/>/<see cref="Protect"/>
/// throw <see cref="IoasidException"/> with mmap/munmap/mprotect's errno; accesses and pins report
/// <see cref="Errno.EFAULT"/> for anything not mapped with the needed permission, past the end of a mapped file, or
/// once the process has exited. A failed access or pin changes nothing visible (frames faulted in stay, as in Linux).
/// </para>
/// </remarks>
public sealed partial class UserAddressSpace
{
    /// <summary>The lowest mappable address (<c>vm.mmap_min_addr</c>'s usual 64 KiB); a fixed mapping below it fails with EPERM.</summary>
    public const ulong MinAddress = 0x1_0000;

    /// <summary>One past the highest user address (x86-64 <c>TASK_SIZE_MAX</c>, 47-bit user space minus a guard page).</summary>
    public const ulong TaskSize = 0x7FFF_FFFF_F000;

    /// <summary>The top of the area where mappings without a fixed address are placed, top-down (<c>mmap_base</c>).</summary>
    public const ulong MmapBase = 0x7F00_0000_0000;

    private const ulong PageMask = AddressMath.PageSize - 1;
    private const ulong HugeSize = 2UL << 20;
    private const ulong GiantSize = 1UL << 30;
    private const ulong GiantPages = GiantSize >> AddressMath.PageShift;

    private static readonly byte[] s_zeroPage = new byte[AddressMath.PageSize];

    private readonly PhysicalMemory _memory;
    private readonly FrameAllocator _frames;
    private readonly List<Vma> _vmas = new();
    private bool _live = true;
    private long _pinnedVm;
    private long _lockedVm;

    internal UserAddressSpace(UserProcess owner, PhysicalMemory memory)
    {
        Owner = owner;
        _memory = memory;
        _frames = memory.Frames;
    }

    /// <summary>The process this address space belongs to.</summary>
    public UserProcess Owner { get; }

    /// <summary>Whether the address space still has users (<c>mm_users</c> &gt; 0): false once the owner exited.</summary>
    public bool IsLive
    {
        get
        {
            lock (_memory.Sync)
            {
                return _live;
            }
        }
    }

    /// <summary>The number of mappings (VMAs). Adjacent mappings are not merged.</summary>
    public int MappingCount
    {
        get
        {
            lock (_memory.Sync)
            {
                return _vmas.Count;
            }
        }
    }

    /// <summary><c>mm-&gt;pinned_vm</c> (VmPin) in pages: maintained by the pinning caller through <see cref="AddPinned"/>.</summary>
    public long PinnedVm
    {
        get
        {
            lock (_memory.Sync)
            {
                return _pinnedVm;
            }
        }
    }

    /// <summary><c>mm-&gt;locked_vm</c> (VmLck) in pages: charged by <see cref="MemlockAccounting"/> in <see cref="AccountMode.Mm"/>.</summary>
    public long LockedVm
    {
        get
        {
            lock (_memory.Sync)
            {
                return _lockedVm;
            }
        }
    }

    /// <summary>The <see cref="LockedVm"/> counter, for <see cref="MemlockAccounting"/> under <see cref="PhysicalMemory.Sync"/>.</summary>
    internal ref long LockedVmLocked => ref _lockedVm;

    /// <summary>Adds <paramref name="deltaPages"/> (negative to subtract) to <see cref="PinnedVm"/>; iommufd does so in every accounting mode.</summary>
    /// <exception cref="InvalidOperationException">The counter would go negative.</exception>
    public void AddPinned(long deltaPages)
    {
        lock (_memory.Sync)
        {
            if (deltaPages < 0 && _pinnedVm < -deltaPages)
            {
                throw new InvalidOperationException($"pinned_vm would go negative: {_pinnedVm} {deltaPages:+#;-#;0}.");
            }

            _pinnedVm += deltaPages;
        }
    }

    /// <summary>
    /// <c>mmap(MAP_PRIVATE | MAP_ANONYMOUS)</c>: maps <paramref name="length"/> bytes (rounded up to pages) of zeroed
    /// memory. With <paramref name="fixedVa"/> it is <c>MAP_FIXED</c>: whatever was mapped there is unmapped first.
    /// </summary>
    /// <param name="length">The length in bytes; rounded up to a multiple of 4 KiB.</param>
    /// <param name="prot">The protection.</param>
    /// <param name="fixedVa">A page-aligned address to map at, replacing existing mappings; otherwise the kernel picks.</param>
    /// <param name="hugePages">Back aligned 1 GiB / 2 MiB pieces with contiguous frames; a chosen address is aligned to 1 GiB (length ≥ 1 GiB) or 2 MiB.</param>
    /// <returns>The page-aligned address of the mapping, never 0.</returns>
    /// <exception cref="IoasidException">EINVAL: zero length, unknown prot bits or misaligned <paramref name="fixedVa"/>; EPERM: <paramref name="fixedVa"/> below <see cref="MinAddress"/>; ENOMEM: no room.</exception>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    public ulong Map(ulong length, UserProt prot = UserProt.ReadWrite, ulong? fixedVa = null, bool hugePages = false) =>
        Insert(length, prot, fixedVa, hugePages, file: null, fileOffset: 0, shared: false);

    /// <summary>
    /// <c>mmap</c> of <paramref name="file"/> from byte <paramref name="fileOffset"/>: <c>MAP_SHARED</c> by default, so
    /// reads and writes go to the file's own frames and every shared mapping sees the same bytes; with
    /// <paramref name="shared"/> false it is <c>MAP_PRIVATE</c>: writes go to private copies. The mapping holds a
    /// reference on the file. Mapping past the end of the file is allowed; accessing or pinning there faults.
    /// </summary>
    /// <exception cref="IoasidException">EBADF: the file was released; EINVAL: zero length, misaligned offset or address, unknown prot bits; EOVERFLOW: offset + length overflows; EPERM/ENOMEM as for <see cref="Map"/>.</exception>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    public ulong MapFile(MemFd file, ulong fileOffset, ulong length, UserProt prot = UserProt.ReadWrite, bool shared = true, ulong? fixedVa = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Insert(length, prot, fixedVa, hugePages: false, file, fileOffset, shared);
    }

    /// <summary>
    /// <c>munmap</c>: removes every mapping in [<paramref name="va"/>, <paramref name="va"/> + <paramref name="length"/>)
    /// (length rounded up to pages), splitting mappings that straddle the ends; holes are fine. Anonymous and private
    /// frames are freed, except pinned ones, which live until their last unpin.
    /// </summary>
    /// <exception cref="IoasidException">EINVAL: misaligned address, zero length, or a range outside user space.</exception>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    public void Unmap(ulong va, ulong length)
    {
        lock (_memory.Sync)
        {
            RequireLive();
            if ((va & PageMask) != 0 || length == 0 || length > TaskSize || va > TaskSize - AlignUp(length))
            {
                throw new IoasidException(Errno.EINVAL, $"munmap(0x{va:X}, 0x{length:X}): the address must be page-aligned and the range non-empty inside user space.");
            }

            RemoveRange(va, va + AlignUp(length));
        }
    }

    /// <summary><c>mprotect</c>: sets the protection of [<paramref name="va"/>, <paramref name="va"/> + <paramref name="length"/>), which must be fully mapped.</summary>
    /// <exception cref="IoasidException">EINVAL: misaligned address or unknown prot bits; ENOMEM: part of the range is not mapped (nothing changes).</exception>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    public void Protect(ulong va, ulong length, UserProt prot)
    {
        lock (_memory.Sync)
        {
            RequireLive();
            if ((va & PageMask) != 0 || (prot & ~(UserProt.ReadWrite | UserProt.Exec)) != 0)
            {
                throw new IoasidException(Errno.EINVAL, $"mprotect(0x{va:X}): misaligned address or unknown protection bits {prot}.");
            }

            if (length == 0)
            {
                return;
            }

            if (length > TaskSize || va > TaskSize - AlignUp(length) || CheckRange(va, va + AlignUp(length), UserProt.None, out _) != Errno.None)
            {
                throw new IoasidException(Errno.ENOMEM, $"mprotect(0x{va:X}, 0x{length:X}): the range is not fully mapped.");
            }

            ulong end = va + AlignUp(length);
            SplitAt(va);
            SplitAt(end);
            for (int i = LowerBound(va); i < _vmas.Count && _vmas[i].Start < end; i++)
            {
                _vmas[i].Prot = prot;
            }

            _cpuTable?.SyncLocked(va, end);
        }
    }

    /// <summary>A CPU read of user memory (<c>copy_from_user</c>).</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/>: see <see cref="TryRead"/>.</exception>
    public void Read(ulong va, Span<byte> destination) => ThrowOnError(TryRead(va, destination), va, "read");

    /// <summary>A CPU write of user memory (<c>copy_to_user</c>).</summary>
    /// <exception cref="IoasidException"><see cref="Errno.EFAULT"/> or <see cref="Errno.ENOMEM"/>: see <see cref="TryWrite"/>.</exception>
    public void Write(ulong va, ReadOnlySpan<byte> source) => ThrowOnError(TryWrite(va, source), va, "write");

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="va"/>; untouched memory reads as zeros and stays unassigned.</summary>
    /// <returns><see cref="Errno.None"/>, or <see cref="Errno.EFAULT"/> (nothing copied) when a byte is unmapped, not readable, past the end of a mapped file, or the process has exited.</returns>
    public Errno TryRead(ulong va, Span<byte> destination)
    {
        lock (_memory.Sync)
        {
            Errno error = CheckAccess(va, (ulong)destination.Length, UserProt.Read, out int index);
            if (error != Errno.None || destination.IsEmpty)
            {
                return error;
            }

            Vma vma = _vmas[index];
            while (!destination.IsEmpty)
            {
                if (va >= vma.End)
                {
                    vma = _vmas[++index];
                }

                int inPage = (int)(va & PageMask);
                int chunk = Math.Min(destination.Length, (int)AddressMath.PageSize - inPage);
                ulong pfn = FrameForRead(vma, va);
                (pfn == 0 ? s_zeroPage : _memory.FrameBytesForRead(pfn)).Slice(inPage, chunk).CopyTo(destination);
                va += (ulong)chunk;
                destination = destination[chunk..];
            }

            return Errno.None;
        }
    }

    /// <summary>Writes <paramref name="source"/> at <paramref name="va"/>, assigning frames to the pages it touches.</summary>
    /// <returns>
    /// <see cref="Errno.None"/>; <see cref="Errno.EFAULT"/> when a byte is unmapped, read-only, past the end of a mapped
    /// file, or the process has exited; <see cref="Errno.ENOMEM"/> when frames run out. On failure nothing is written.
    /// </returns>
    public Errno TryWrite(ulong va, ReadOnlySpan<byte> source)
    {
        lock (_memory.Sync)
        {
            Errno error = CheckAccess(va, (ulong)source.Length, UserProt.Write, out int index);
            if (error != Errno.None || source.IsEmpty)
            {
                return error;
            }

            // Every page gets its frame first, so running out of memory writes nothing.
            bool assigned = TryAssign(va & ~PageMask, AlignUp(va + (ulong)source.Length), index, Span<ulong>.Empty);
            _cpuTable?.SyncLocked(va, va + (ulong)source.Length); // frames faulted in before a failure stay
            if (!assigned)
            {
                return Errno.ENOMEM;
            }

            Vma vma = _vmas[index];
            while (!source.IsEmpty)
            {
                if (va >= vma.End)
                {
                    vma = _vmas[++index];
                }

                int inPage = (int)(va & PageMask);
                int chunk = Math.Min(source.Length, (int)AddressMath.PageSize - inPage);
                source[..chunk].CopyTo(_memory.FrameBytes(FrameForRead(vma, va))[inPage..]);
                va += (ulong)chunk;
                source = source[chunk..];
            }

            return Errno.None;
        }
    }

    /// <summary>
    /// Pins the <paramref name="pages"/> pages from the page containing <paramref name="va"/>
    /// (<c>pin_user_pages_remote</c> with <c>FOLL_LONGTERM</c>, plus <c>FOLL_WRITE</c> when <paramref name="write"/>):
    /// all or nothing. Frames are assigned in place where missing; each frame's pin count goes up by one and its PFN is
    /// written to <paramref name="pfnsOut"/>. Undo with <see cref="Unpin"/>. Allocates nothing per page.
    /// </summary>
    /// <param name="va">The first address; rounded down to its page, as GUP does.</param>
    /// <param name="pages">The number of 4 KiB pages.</param>
    /// <param name="write">Whether the device will write: every page must then be mapped writable.</param>
    /// <param name="pfnsOut">Receives the PFNs; at least <paramref name="pages"/> long.</param>
    /// <returns>
    /// <see cref="Errno.None"/>; <see cref="Errno.EFAULT"/> when a page is unmapped, lacks the permission, lies past
    /// the end of a mapped file, or the process has exited (<c>fork_gone</c>); <see cref="Errno.ENOMEM"/> when frames
    /// run out. On failure no pin is taken.
    /// </returns>
    [MustUseResult]
    public Errno TryPin(ulong va, ulong pages, bool write, Span<ulong> pfnsOut)
    {
        if ((ulong)pfnsOut.Length < pages)
        {
            throw new ArgumentException($"The PFN buffer holds {pfnsOut.Length} entries, fewer than the {pages} pages to pin.", nameof(pfnsOut));
        }

        if (pages == 0)
        {
            return Errno.None;
        }

        ulong start = va & ~PageMask;
        if (pages > (TaskSize >> AddressMath.PageShift) || start > TaskSize - (pages << AddressMath.PageShift))
        {
            return Errno.EFAULT;
        }

        ulong end = start + (pages << AddressMath.PageShift);
        pfnsOut = pfnsOut[..(int)pages];
        lock (_memory.Sync)
        {
            if (!_live)
            {
                return Errno.EFAULT;
            }

            Errno error = CheckRange(start, end, write ? UserProt.Write : UserProt.Read, out int index);
            if (error != Errno.None)
            {
                return error;
            }

            if (!TryAssign(start, end, index, pfnsOut))
            {
                _cpuTable?.SyncLocked(start, end); // frames faulted in before the failure stay
                return Errno.ENOMEM;
            }

            foreach (ulong pfn in pfnsOut)
            {
                _frames.PinLocked(pfn);
            }

            _cpuTable?.SyncLocked(start, end);

            return Errno.None;
        }
    }

    /// <summary>Drops the pins <see cref="TryPin"/> took (<c>unpin_user_pages</c>); the same as <see cref="FrameAllocator.Unpin"/>, and valid after the process exited.</summary>
    public void Unpin(ReadOnlySpan<ulong> pfns) => _frames.Unpin(pfns);

    /// <summary>
    /// The frame currently backing <paramref name="va"/>, without faulting anything in (like <c>follow_page</c>):
    /// false when the address is unmapped, past the end of a mapped file, or has no frame yet.
    /// </summary>
    public bool TryGetFrame(ulong va, out PhysAddr frame)
    {
        lock (_memory.Sync)
        {
            frame = PhysAddr.Zero;
            int index = _live ? FindVma(va) : -1;
            if (index < 0)
            {
                return false;
            }

            Vma vma = _vmas[index];
            if (vma.File is not null && vma.FileIndex(va) >= vma.File.PageCountLocked)
            {
                return false;
            }

            ulong pfn = FrameForRead(vma, va);
            frame = PhysAddr.FromFrame(pfn);
            return pfn != 0;
        }
    }

    /// <summary><c>exit_mmap</c>: unmaps everything and marks the address space dead. Pinned frames stay until unpinned.</summary>
    internal void TearDown()
    {
        lock (_memory.Sync)
        {
            if (!_live)
            {
                return;
            }

            ReleaseMmuNotifiersLocked();
            foreach (Vma vma in _vmas)
            {
                ReleaseVma(vma);
            }

            _vmas.Clear();
            DestroyCpuPageTableLocked();
            _live = false;
        }
    }

    /// <summary>The address-space half of <c>fork</c>: copies every mapping into the empty <paramref name="child"/>.</summary>
    internal void CopyInto(UserAddressSpace child)
    {
        lock (_memory.Sync)
        {
            RequireLive();
            // Split VMAs share one backing array; their copies must too.
            var copies = new Dictionary<SparsePageArray, SparsePageArray>(ReferenceEqualityComparer.Instance);
            try
            {
                foreach (Vma vma in _vmas)
                {
                    Vma copy = vma.Clone();
                    copy.File?.AddReferenceLocked();
                    if (vma.Anon is not null)
                    {
                        if (!copies.TryGetValue(vma.Anon, out SparsePageArray? anon))
                        {
                            anon = new SparsePageArray(vma.Anon.Capacity);
                            copies.Add(vma.Anon, anon);
                        }

                        copy.Anon = anon;
                    }

                    child._vmas.Add(copy);
                    for (ulong index = vma.AnonPage; vma.Anon is not null && index < vma.AnonPage + vma.Pages; index++)
                    {
                        ulong source = vma.Anon.Get(index);
                        if (source == 0)
                        {
                            continue;
                        }

                        if (!_frames.TryAllocateLocked(out ulong fresh))
                        {
                            throw new IoasidException(Errno.ENOMEM, "fork: no free frames to copy the parent's private pages.");
                        }

                        _memory.FrameBytesForRead(source).CopyTo(_memory.FrameBytes(fresh));
                        copy.Anon!.Slot(index) = fresh;
                    }
                }
            }
            catch
            {
                child.TearDown();
                throw;
            }
        }
    }

    private ulong Insert(ulong length, UserProt prot, ulong? fixedVa, bool hugePages, MemFd? file, ulong fileOffset, bool shared)
    {
        lock (_memory.Sync)
        {
            RequireLive();
            if (file is not null && !file.IsOpenLocked)
            {
                throw new IoasidException(Errno.EBADF, $"mmap: {file} has been released.");
            }

            if (length == 0 || (prot & ~(UserProt.ReadWrite | UserProt.Exec)) != 0 || (fileOffset & PageMask) != 0)
            {
                throw new IoasidException(Errno.EINVAL, $"mmap(length 0x{length:X}, {prot}, offset 0x{fileOffset:X}): zero length, unknown protection bits or misaligned offset.");
            }

            if (length > TaskSize)
            {
                throw new IoasidException(Errno.ENOMEM, $"mmap: length 0x{length:X} exceeds the user address space.");
            }

            ulong len = AlignUp(length);
            ulong pages = len >> AddressMath.PageShift;
            if ((fileOffset >> AddressMath.PageShift) + pages < (fileOffset >> AddressMath.PageShift))
            {
                throw new IoasidException(Errno.EOVERFLOW, $"mmap: file offset 0x{fileOffset:X} + length 0x{len:X} overflows.");
            }

            ulong va;
            if (fixedVa is ulong fixedAddress)
            {
                if ((fixedAddress & PageMask) != 0)
                {
                    throw new IoasidException(Errno.EINVAL, $"mmap: fixed address 0x{fixedAddress:X} is not page-aligned.");
                }

                if (fixedAddress < MinAddress)
                {
                    throw new IoasidException(Errno.EPERM, $"mmap: fixed address 0x{fixedAddress:X} is below mmap_min_addr.");
                }

                if (fixedAddress > TaskSize - len)
                {
                    throw new IoasidException(Errno.ENOMEM, $"mmap: 0x{fixedAddress:X}+0x{len:X} ends past the user address space.");
                }

                va = fixedAddress;
            }
            else
            {
                ulong alignment = !hugePages ? AddressMath.PageSize : len >= GiantSize ? GiantSize : HugeSize;
                va = FindFreeTopDown(len, alignment);
                if (va == 0)
                {
                    throw new IoasidException(Errno.ENOMEM, $"mmap: no free 0x{len:X}-byte range in the address space.");
                }
            }

            var vma = new Vma { Start = va, End = va + len, Prot = prot, Huge = hugePages && file is null };
            if (file is null)
            {
                // Huge mappings index their pages congruent to the address modulo 1 GiB, so each 512-entry chunk is one
                // aligned 2 MiB piece and 512 chunks one aligned 1 GiB piece.
                vma.AnonPage = vma.Huge ? (va >> AddressMath.PageShift) & (GiantPages - 1) : 0;
                vma.Anon = new SparsePageArray(vma.AnonPage + pages);
            }
            else
            {
                vma.File = file;
                vma.FilePage = fileOffset >> AddressMath.PageShift;
                vma.Anon = shared ? null : new SparsePageArray(pages);
                file.AddReferenceLocked();
            }

            // Everything that can fail has been checked: MAP_FIXED now replaces what was there.
            if (fixedVa is not null)
            {
                RemoveRange(va, va + len);
            }

            _vmas.Insert(LowerBound(va), vma);
            if (file is not null)
            {
                _cpuTable?.SyncLocked(va, va + len); // file pages that already have frames are present at once
            }

            return va;
        }
    }

    // Checks an access of length bytes at va and finds the VMA of its first byte.
    private Errno CheckAccess(ulong va, ulong length, UserProt need, out int index)
    {
        index = -1;
        if (!_live || va >= TaskSize || length > TaskSize - va)
        {
            return Errno.EFAULT;
        }

        return length == 0 ? Errno.None : CheckRange(va & ~PageMask, AlignUp(va + length), need, out index);
    }

    // Whether [start, end) (page-aligned, non-empty) is mapped without holes with the needed permission and, unless
    // need is None (mprotect's coverage check), inside the mapped files; index is the VMA holding start.
    private Errno CheckRange(ulong start, ulong end, UserProt need, out int index)
    {
        index = FindVma(start);
        if (index < 0)
        {
            return Errno.EFAULT;
        }

        for (int i = index; ; i++)
        {
            Vma vma = _vmas[i];
            if ((vma.Prot & need) != need)
            {
                return Errno.EFAULT;
            }

            ulong segmentEnd = Math.Min(end, vma.End);
            if (need != UserProt.None && vma.File is not null && vma.FileIndex(segmentEnd - 1) >= vma.File.PageCountLocked)
            {
                return Errno.EFAULT; // past the end of the file: SIGBUS for the CPU, EFAULT for GUP
            }

            if (segmentEnd == end)
            {
                return Errno.None;
            }

            if (i + 1 == _vmas.Count || _vmas[i + 1].Start != segmentEnd)
            {
                return Errno.EFAULT;
            }
        }
    }

    // Gives each page of the checked range [start, end) its frame, from VMA index on; records the PFNs when asked.
    private bool TryAssign(ulong start, ulong end, int index, Span<ulong> pfnsOut)
    {
        Vma vma = _vmas[index];
        int i = 0;
        for (ulong va = start; va < end; va += AddressMath.PageSize, i++)
        {
            if (va >= vma.End)
            {
                vma = _vmas[++index];
            }

            // Fast path, the common case of pinning memory already faulted in: one array lookup, no calls.
            ulong pfn = vma.Anon is { } anon ? anon.Get(vma.AnonIndex(va)) : vma.File!.FrameAtLocked(vma.FileIndex(va));
            if (pfn == 0 && !TryFrameForWrite(vma, va, out pfn))
            {
                return false;
            }

            if (!pfnsOut.IsEmpty)
            {
                pfnsOut[i] = pfn;
            }
        }

        return true;
    }

    // The frame a CPU read of va sees, or 0 for a page that reads as zeros.
    private static ulong FrameForRead(Vma vma, ulong va)
    {
        if (vma.Anon is not null)
        {
            ulong pfn = vma.Anon.Get(vma.AnonIndex(va));
            if (pfn != 0 || vma.File is null)
            {
                return pfn;
            }
        }

        return vma.File!.FrameAtLocked(vma.FileIndex(va));
    }

    // The frame a write or a pin of va uses, assigned in place if missing; false when frames run out.
    private bool TryFrameForWrite(Vma vma, ulong va, out ulong pfn)
    {
        SparsePageArray? anon = vma.Anon;
        if (anon is null)
        {
            return vma.File!.TryFrameLocked(vma.FileIndex(va), out pfn);
        }

        ulong index = vma.AnonIndex(va);
        if (vma.Huge && anon.ChunkIsEmpty(index))
        {
            FillHuge(vma, va);
        }

        ref ulong slot = ref anon.Slot(index);
        if (slot == 0)
        {
            if (!_frames.TryAllocateLocked(out ulong fresh))
            {
                pfn = 0;
                return false;
            }

            if (vma.File is not null)
            {
                // A private file page is copied on first write, and on any pin (GUP unshare), so the pinned frame is
                // the one later CPU writes land in.
                ulong source = vma.File.FrameAtLocked(vma.FileIndex(va));
                if (source != 0)
                {
                    _memory.FrameBytesForRead(source).CopyTo(_memory.FrameBytes(fresh));
                }
            }

            slot = fresh;
        }

        pfn = slot;
        return true;
    }

    // First touch of an empty 2 MiB chunk of a huge mapping: back the aligned 1 GiB piece around va with one contiguous
    // run if it lies inside the mapping and is entirely untouched, else the aligned 2 MiB piece; else leave it to 4 KiB frames.
    private void FillHuge(Vma vma, ulong va)
    {
        ulong giant = va & ~(GiantSize - 1);
        if (giant >= vma.Start && vma.End - giant >= GiantSize && IsUntouched(vma.Anon!, vma.AnonIndex(giant), GiantPages)
            && TryFillRun(vma.Anon!, vma.AnonIndex(giant), GiantPages))
        {
            _cpuTable?.SyncLocked(giant, giant + GiantSize); // the whole 1 GiB, beyond the access that faulted it in
            return;
        }

        ulong huge = va & ~(HugeSize - 1);
        if (huge >= vma.Start && vma.End - huge >= HugeSize)
        {
            TryFillRun(vma.Anon!, vma.AnonIndex(huge), HugeSize >> AddressMath.PageShift);
        }
    }

    private static bool IsUntouched(SparsePageArray anon, ulong firstIndex, ulong pages)
    {
        for (ulong index = firstIndex; index < firstIndex + pages; index += SparsePageArray.ChunkSize)
        {
            if (!anon.ChunkIsEmpty(index))
            {
                return false;
            }
        }

        return true;
    }

    private bool TryFillRun(SparsePageArray anon, ulong firstIndex, ulong pages)
    {
        if (!_frames.TryAllocateContiguousLocked(pages, pages, out ulong pfn))
        {
            return false;
        }

        for (ulong i = 0; i < pages; i++)
        {
            anon.Slot(firstIndex + i) = pfn + i;
        }

        return true;
    }

    // The highest aligned free range of len bytes below MmapBase, or 0.
    private ulong FindFreeTopDown(ulong len, ulong alignment)
    {
        ulong high = MmapBase;
        for (int i = _vmas.Count - 1; ; i--)
        {
            if (i >= 0 && _vmas[i].Start >= high)
            {
                continue; // entirely above the window
            }

            ulong low = i >= 0 ? _vmas[i].End : MinAddress;
            if (low < high && high - low >= len)
            {
                ulong candidate = (high - len) & ~(alignment - 1);
                if (candidate >= low)
                {
                    return candidate;
                }
            }

            if (i < 0)
            {
                return 0;
            }

            high = _vmas[i].Start;
        }
    }

    // munmap's core: splits the VMAs straddling the ends, then drops every VMA inside.
    private void RemoveRange(ulong start, ulong end)
    {
        SplitAt(start);
        SplitAt(end);
        int first = LowerBound(start);
        int last = first;
        while (last < _vmas.Count && _vmas[last].Start < end)
        {
            ReleaseVma(_vmas[last++]);
        }

        _vmas.RemoveRange(first, last - first);
        _cpuTable?.SyncLocked(start, end);
    }

    // Splits the VMA containing addr in two at addr; both halves view the same backing object.
    private void SplitAt(ulong addr)
    {
        int i = FindVma(addr);
        if (i < 0 || _vmas[i].Start == addr)
        {
            return;
        }

        Vma left = _vmas[i];
        Vma right = left.Clone();
        ulong delta = (addr - left.Start) >> AddressMath.PageShift;
        right.Start = addr;
        right.AnonPage += delta;
        right.FilePage += delta;
        left.End = addr;
        right.File?.AddReferenceLocked();
        _vmas.Insert(i + 1, right);
    }

    private void ReleaseVma(Vma vma)
    {
        vma.Anon?.ReleaseRange(vma.AnonPage, vma.AnonPage + vma.Pages, _frames);
        vma.File?.ReleaseLocked();
    }

    // The first VMA index whose start is at or above va.
    private int LowerBound(ulong va)
    {
        int low = 0;
        int high = _vmas.Count;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_vmas[mid].Start < va)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    // The VMA containing va, or -1.
    private int FindVma(ulong va)
    {
        int i = LowerBound(va + 1) - 1;
        return i >= 0 && va < _vmas[i].End ? i : -1;
    }

    private void RequireLive()
    {
        if (!_live)
        {
            throw new InvalidOperationException($"Process {Owner.Pid} has exited; its address space is gone.");
        }
    }

    private static ulong AlignUp(ulong value) => (value + PageMask) & ~PageMask;

    private static void ThrowOnError(Errno error, ulong va, string what)
    {
        if (error != Errno.None)
        {
            throw new IoasidException(error, $"User {what} at 0x{va:X} failed.");
        }
    }
}
