namespace Ioasid.Core.Platform;

/// <summary>
/// How pinned pages are charged against <c>RLIMIT_MEMLOCK</c>: the kernel's <c>IOPT_PAGES_ACCOUNT_*</c> modes
/// (spec §5.2). <c>mm-&gt;pinned_vm</c> is updated in every mode by the caller.
/// </summary>
public enum AccountMode
{
    /// <summary>No memlock charge: the creator has <c>CAP_IPC_LOCK</c>.</summary>
    None = 0,

    /// <summary>Charge the owner's user account (<c>user-&gt;locked_vm</c>), io_uring style: the default.</summary>
    User = 1,

    /// <summary>Charge the owner's address space (<c>mm-&gt;locked_vm</c>, VmLck), VFIO style (<c>__account_locked_vm</c>).</summary>
    Mm = 2,
}
