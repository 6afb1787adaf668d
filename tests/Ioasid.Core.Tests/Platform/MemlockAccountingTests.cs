using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

public class MemlockAccountingTests
{
    // The default RLIMIT_MEMLOCK, 8 MiB, in pages.
    private const ulong LimitPages = UserProcess.DefaultMemlockLimit / AddressMath.PageSize;

    [Fact]
    public void DefaultModeIsNoneOnlyWithCapIpcLock()
    {
        var machine = new Machine(1UL << 20);
        UserProcess plain = machine.CreateProcess();
        UserProcess privileged = machine.CreateProcess(0);
        privileged.CapIpcLock = true;

        Assert.Equal(AccountMode.User, MemlockAccounting.DefaultModeFor(plain));
        Assert.Equal(AccountMode.None, MemlockAccounting.DefaultModeFor(privileged));
        Assert.Equal(8UL << 20, plain.MemlockLimit);
    }

    [Fact]
    public void UserModeChargesTheAccountUpToTheLimit()
    {
        var machine = new Machine(1UL << 20);
        UserProcess process = machine.CreateProcess();

        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.User, process, LimitPages - 1));
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.User, process, 1));
        Assert.Equal((long)LimitPages, process.User.LockedVm);
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.User, process, 1));
        Assert.Equal((long)LimitPages, process.User.LockedVm);
        Assert.Equal(0, process.Mm.LockedVm);

        MemlockAccounting.Uncharge(AccountMode.User, process, LimitPages);
        Assert.Equal(0, process.User.LockedVm);
        Assert.Throws<InvalidOperationException>(() => MemlockAccounting.Uncharge(AccountMode.User, process, 1));
    }

    [Fact]
    public void UserModeCounterIsSharedByTheUidButLimitedByEachOwner()
    {
        var machine = new Machine(1UL << 20);
        UserProcess first = machine.CreateProcess(1000);
        UserProcess sibling = machine.CreateProcess(1000);
        UserProcess stranger = machine.CreateProcess(1001);
        Assert.Same(first.User, sibling.User);

        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.User, first, 1500));
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.User, sibling, 600));
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.User, stranger, 600));
        Assert.Equal(1500, sibling.User.LockedVm);
        Assert.Equal(600, stranger.User.LockedVm);

        sibling.MemlockLimit = 16UL << 20; // the owner's own rlimit decides
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.User, sibling, 600));
        Assert.Equal(2100, first.User.LockedVm);
    }

    [Fact]
    public void MmModeChargesTheAddressSpace()
    {
        var machine = new Machine(1UL << 20);
        UserProcess process = machine.CreateProcess();
        process.MemlockLimit = 40 * AddressMath.PageSize + 100; // partial pages do not count

        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.Mm, process, 40));
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.Mm, process, 1));
        Assert.Equal(40, process.Mm.LockedVm);
        Assert.Equal(0, process.User.LockedVm);
        MemlockAccounting.Uncharge(AccountMode.Mm, process, 15);
        Assert.Equal(25, process.Mm.LockedVm);
    }

    [Fact]
    public void NoneModeAndInfiniteLimitNeverFail()
    {
        var machine = new Machine(1UL << 20);
        UserProcess process = machine.CreateProcess();
        process.MemlockLimit = 0;
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.None, process, 1UL << 40));
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.User, process, 1));
        Assert.Equal(0, process.User.LockedVm);

        process.MemlockLimit = UserProcess.RlimitInfinity;
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.Mm, process, 1UL << 40));
        Assert.Equal(1L << 40, process.Mm.LockedVm);
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.Mm, process, ulong.MaxValue));
    }

    [Fact]
    public void ChangeProcessChargesTheNewOwnerFirst()
    {
        // IOMMU_IOAS_CHANGE_PROCESS: charge the new process, then uncharge the old; a failure changes nothing.
        var machine = new Machine(1UL << 20);
        UserProcess parent = machine.CreateProcess(1000);
        UserProcess child = machine.CreateProcess(1001);
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.Mm, parent, 100));
        parent.Mm.AddPinned(100);

        child.MemlockLimit = 50 * AddressMath.PageSize;
        Assert.Equal(Errno.ENOMEM, MemlockAccounting.TryCharge(AccountMode.Mm, child, 100));
        Assert.Equal((100, 0L), (parent.Mm.LockedVm, child.Mm.LockedVm));

        child.MemlockLimit = UserProcess.DefaultMemlockLimit;
        Assert.Equal(Errno.None, MemlockAccounting.TryCharge(AccountMode.Mm, child, 100));
        child.Mm.AddPinned(100);
        MemlockAccounting.Uncharge(AccountMode.Mm, parent, 100);
        parent.Mm.AddPinned(-100);
        Assert.Equal((0L, 100L, 0L, 100L), (parent.Mm.LockedVm, child.Mm.LockedVm, parent.Mm.PinnedVm, child.Mm.PinnedVm));
        Assert.Throws<InvalidOperationException>(() => parent.Mm.AddPinned(-1));
    }
}
