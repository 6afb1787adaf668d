namespace Ioasid.Core.Platform;

/// <summary>
/// A user account (the kernel's <c>struct user_struct</c>): the per-uid state every process of that uid shares, here
/// the <c>locked_vm</c> page count that <see cref="AccountMode.User"/> charges. One instance per uid per
/// <see cref="Machine"/>, so two processes of a uid charge the same counter.
/// </summary>
public sealed class UserAccount
{
    private readonly PhysicalMemory _memory;
    private long _lockedVm;

    internal UserAccount(PhysicalMemory memory, uint uid)
    {
        _memory = memory;
        Uid = uid;
    }

    /// <summary>The user id.</summary>
    public uint Uid { get; }

    /// <summary>Pages charged to this user by <see cref="AccountMode.User"/> accounting (<c>user-&gt;locked_vm</c>).</summary>
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

    /// <summary>The counter itself, for <see cref="MemlockAccounting"/> under <see cref="PhysicalMemory.Sync"/>.</summary>
    internal ref long LockedVmLocked => ref _lockedVm;

    /// <inheritdoc/>
    public override string ToString() => $"uid {Uid}";
}
