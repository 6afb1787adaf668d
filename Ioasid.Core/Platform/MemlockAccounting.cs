using System;

namespace Ioasid.Core.Platform;

/// <summary>
/// Charging pinned pages against <c>RLIMIT_MEMLOCK</c> in the kernel's three modes (spec §5.2; <c>pages.c</c>
/// <c>incr_user_locked_vm</c> and <c>update_mm_locked_vm</c>). Counts are in pages. <c>pinned_vm</c> (VmPin) is not
/// touched here: the caller updates it in every mode with <see cref="UserAddressSpace.AddPinned"/>.
/// </summary>
public static class MemlockAccounting
{
    /// <summary>
    /// The mode pages created by <paramref name="creator"/> are accounted in: <see cref="AccountMode.None"/> with
    /// <c>CAP_IPC_LOCK</c>, otherwise <see cref="AccountMode.User"/>. (A context in MM mode upgrades User to Mm itself.)
    /// </summary>
    public static AccountMode DefaultModeFor(UserProcess creator)
    {
        ArgumentNullException.ThrowIfNull(creator);
        return creator.CapIpcLock ? AccountMode.None : AccountMode.User;
    }

    /// <summary>
    /// Charges <paramref name="pages"/> in <paramref name="mode"/> to <paramref name="owner"/>: User mode adds to
    /// <c>owner.User.LockedVm</c>, Mm mode to <c>owner.Mm.LockedVm</c>, both limited by the owner's
    /// <see cref="UserProcess.MemlockLimit"/>. The limit is not bypassed by capabilities here: a capable creator is
    /// accounted in <see cref="AccountMode.None"/> instead.
    /// </summary>
    /// <returns><see cref="Errno.None"/>, or <see cref="Errno.ENOMEM"/> when the charge would pass the limit (nothing changed).</returns>
    public static Errno TryCharge(AccountMode mode, UserProcess owner, ulong pages)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (mode == AccountMode.None || pages == 0)
        {
            return Errno.None;
        }

        lock (owner.Machine.Memory.Sync)
        {
            ref long counter = ref Counter(mode, owner);
            ulong limit = owner.MemlockLimit >> AddressMath.PageShift;
            ulong current = (ulong)counter;
            // new = current + pages > limit, written so neither side can overflow.
            if (pages > limit || current > limit - pages)
            {
                return Errno.ENOMEM;
            }

            counter += (long)pages;
            return Errno.None;
        }
    }

    /// <summary>Returns <paramref name="pages"/> charged earlier by <see cref="TryCharge"/> in the same mode to the same owner.</summary>
    /// <exception cref="InvalidOperationException">More pages would be returned than are charged.</exception>
    public static void Uncharge(AccountMode mode, UserProcess owner, ulong pages)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (mode == AccountMode.None || pages == 0)
        {
            return;
        }

        lock (owner.Machine.Memory.Sync)
        {
            ref long counter = ref Counter(mode, owner);
            if ((ulong)counter < pages)
            {
                throw new InvalidOperationException($"Uncharging {pages} pages in {mode} mode but only {counter} are charged.");
            }

            counter -= (long)pages;
        }
    }

    private static ref long Counter(AccountMode mode, UserProcess owner)
    {
        switch (mode)
        {
            case AccountMode.User:
                return ref owner.User.LockedVmLocked;
            case AccountMode.Mm:
                return ref owner.Mm.LockedVmLocked;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown accounting mode.");
        }
    }
}
