namespace Ioasid.Core.Platform;

/// <summary>
/// A secondary-TLB user of a process's CPU page table (the kernel's <c>mmu_notifier</c>): IOMMU SVA domains subscribe
/// through <see cref="UserAddressSpace.RegisterMmuNotifier"/> so that a device never keeps using a translation the CPU
/// table no longer has. Callbacks run with the address space locked: they may program hardware (queue invalidations
/// and wait) but must not call back into the address space.
/// </summary>
public interface IMmuNotifier
{
    /// <summary>
    /// <c>arch_invalidate_secondary_tlbs</c>: present entries of [<paramref name="start"/>, <paramref name="end"/>)
    /// changed or disappeared (munmap, mprotect, truncate, a huge page split); invalidate every cached translation of
    /// the range. Table pages no longer used are freed only after this returns.
    /// </summary>
    void InvalidateRange(UserAddressSpace mm, ulong start, ulong end);

    /// <summary>
    /// <c>release</c>: the address space is being torn down (<c>exit_mmap</c>) and its page table is about to be freed;
    /// stop every walk of it now. The notifier is unregistered afterwards and gets no further calls.
    /// </summary>
    void Release(UserAddressSpace mm);
}
