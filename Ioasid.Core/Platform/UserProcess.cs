using System;

namespace Ioasid.Core.Platform;

/// <summary>
/// A user task: its address space <see cref="Mm"/>, its user account, its <c>RLIMIT_MEMLOCK</c> and the two
/// capabilities that matter to pinning. iommufd charges pins to the process that created the mapping (or to the
/// one a later <c>IOMMU_IOAS_CHANGE_PROCESS</c> names) and pins from its mm, which must still be alive.
/// </summary>
public sealed class UserProcess
{
    /// <summary>The kernel's default <c>RLIMIT_MEMLOCK</c> (<c>MLOCK_LIMIT</c>): 8 MiB.</summary>
    public const ulong DefaultMemlockLimit = 8UL << 20;

    /// <summary><c>RLIM_INFINITY</c>: no limit.</summary>
    public const ulong RlimitInfinity = ulong.MaxValue;

    internal UserProcess(Machine machine, UserAccount user)
    {
        Machine = machine;
        User = user;
        Pid = machine.AllocatePid();
        Mm = new UserAddressSpace(this, machine.Memory);
    }

    /// <summary>The machine the process runs on.</summary>
    public Machine Machine { get; }

    /// <summary>The process id.</summary>
    public int Pid { get; }

    /// <summary>The user account the process runs as; shared with every other process of the same uid.</summary>
    public UserAccount User { get; }

    /// <summary>The address space (<c>mm</c>). It outlives <see cref="Exit"/> as the kernel's grabbed <c>mm_struct</c> does: empty, unpinnable, counters still readable.</summary>
    public UserAddressSpace Mm { get; }

    /// <summary>The soft <c>RLIMIT_MEMLOCK</c> in bytes (what <c>task_rlimit</c> reads); <see cref="DefaultMemlockLimit"/> until set.</summary>
    public ulong MemlockLimit { get; set; } = DefaultMemlockLimit;

    /// <summary>
    /// <c>CAP_IPC_LOCK</c>: pins by this process are not charged against the memlock limit
    /// (<see cref="MemlockAccounting.DefaultModeFor"/> answers <see cref="AccountMode.None"/>).
    /// </summary>
    public bool CapIpcLock { get; set; }

    /// <summary>
    /// <c>CAP_SYS_RESOURCE</c>: carried for the models that consult it (overriding resource limits); the platform's
    /// own accounting does not, as iommufd's does not.
    /// </summary>
    public bool CapSysResource { get; set; }

    /// <summary>Whether the process still runs; after <see cref="Exit"/> pinning its mm fails with EFAULT (selftest <c>fork_gone</c>).</summary>
    public bool IsAlive => Mm.IsLive;

    /// <summary>
    /// Ends the process: its address space is torn down (<c>exit_mmap</c>). Frames still pinned stay allocated until
    /// unpinned; the mm's counters stay for whoever still holds charges on it. Calling it again does nothing.
    /// </summary>
    public void Exit() => Mm.TearDown();

    /// <summary>
    /// <c>fork()</c>: a child of the same user account, limits and capabilities, with a copy of the address space.
    /// Anonymous and private pages are copied at once rather than shared copy-on-write: no observer can tell the
    /// difference, and it is what the kernel does for pinned pages, which must stay with the parent.
    /// memfd shared mappings are shared.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process has exited.</exception>
    /// <exception cref="IoasidException"><see cref="Errno.ENOMEM"/>: no frames for the copies.</exception>
    public UserProcess Fork()
    {
        var child = new UserProcess(Machine, User)
        {
            MemlockLimit = MemlockLimit,
            CapIpcLock = CapIpcLock,
            CapSysResource = CapSysResource,
        };
        Mm.CopyInto(child.Mm);
        return child;
    }

    /// <inheritdoc/>
    public override string ToString() => $"pid {Pid} ({User})";
}
