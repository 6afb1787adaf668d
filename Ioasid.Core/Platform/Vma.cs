namespace Ioasid.Core.Platform;

/// <summary>
/// One mapping of an address space (<c>vm_area_struct</c>): [<see cref="Start"/>, <see cref="End"/>) and what backs it.
/// Per-page state lives in the backing object's <see cref="SparsePageArray"/>, never in per-page objects, and a
/// split (partial munmap or mprotect) only makes two VMAs view disjoint ranges of the same backing object.
/// </summary>
/// <remarks>
/// Three kinds: anonymous (<see cref="Anon"/> only), shared file (<see cref="File"/> only) and private file (both:
/// <see cref="Anon"/> holds the private copies, the file the pages not yet copied).
/// </remarks>
internal sealed class Vma
{
    /// <summary>First address, page-aligned.</summary>
    internal ulong Start;

    /// <summary>One past the last address, page-aligned.</summary>
    internal ulong End;

    /// <summary>Current protection.</summary>
    internal UserProt Prot;

    /// <summary>Anonymous pages, or a private file mapping's copies; null for a shared file mapping.</summary>
    internal SparsePageArray? Anon;

    /// <summary>The index in <see cref="Anon"/> of the page at <see cref="Start"/>.</summary>
    internal ulong AnonPage;

    /// <summary>The mapped file; null for anonymous memory. The VMA holds one reference on it.</summary>
    internal MemFd? File;

    /// <summary>The file page mapped at <see cref="Start"/>.</summary>
    internal ulong FilePage;

    /// <summary>Anonymous memory backed by huge pages where alignment allows (THP-like).</summary>
    internal bool Huge;

    internal ulong Pages => (End - Start) >> AddressMath.PageShift;

    internal ulong AnonIndex(ulong va) => AnonPage + ((va - Start) >> AddressMath.PageShift);

    internal ulong FileIndex(ulong va) => FilePage + ((va - Start) >> AddressMath.PageShift);

    internal Vma Clone() => (Vma)MemberwiseClone();
}
