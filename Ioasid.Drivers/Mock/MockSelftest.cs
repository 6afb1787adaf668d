using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;

namespace Ioasid.Drivers.Mock;

/// <summary>
/// IOMMU_TEST_CMD over the mock driver (the kernel's <c>selftest.c</c>, the module a kernel gets with
/// CONFIG_IOMMUFD_TEST): mock devices bound and attached in one step, checks of what a mock domain maps and of page
/// pin counts, and software accesses behind access fds. Pass it to <see cref="FileTable.OpenIommu"/>.
/// </summary>
public sealed class MockSelftest : IIommufdSelftest
{
    /// <summary>IOMMU_TEST_OP_ADD_RESERVED.</summary>
    public const uint OpAddReserved = 1;

    /// <summary>IOMMU_TEST_OP_MOCK_DOMAIN.</summary>
    public const uint OpMockDomain = 2;

    /// <summary>IOMMU_TEST_OP_MD_CHECK_MAP.</summary>
    public const uint OpMdCheckMap = 3;

    /// <summary>IOMMU_TEST_OP_MD_CHECK_REFS.</summary>
    public const uint OpMdCheckRefs = 4;

    /// <summary>IOMMU_TEST_OP_CREATE_ACCESS.</summary>
    public const uint OpCreateAccess = 5;

    /// <summary>IOMMU_TEST_OP_DESTROY_ACCESS_PAGES.</summary>
    public const uint OpDestroyAccessPages = 6;

    /// <summary>IOMMU_TEST_OP_ACCESS_PAGES.</summary>
    public const uint OpAccessPages = 7;

    /// <summary>IOMMU_TEST_OP_ACCESS_RW.</summary>
    public const uint OpAccessRw = 8;

    /// <summary>IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE.</summary>
    public const uint OpMockDomainReplace = 10;

    /// <summary>IOMMU_TEST_OP_ACCESS_REPLACE_IOAS.</summary>
    public const uint OpAccessReplaceIoas = 11;

    /// <summary>IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS.</summary>
    public const uint OpMockDomainFlags = 12;

    /// <summary>MOCK_FLAGS_DEVICE_NO_DIRTY.</summary>
    public const uint DeviceNoDirty = 1;

    /// <summary>MOCK_FLAGS_DEVICE_HUGE_IOVA.</summary>
    public const uint DeviceHugeIova = 2;

    /// <summary>MOCK_FLAGS_DEVICE_PASID.</summary>
    public const uint DevicePasid = 4;

    /// <summary>MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES.</summary>
    public const uint AccessCreateNeedsPinPages = 1;

    /// <summary>MOCK_FLAGS_ACCESS_WRITE (ACCESS_PAGES) and MOCK_ACCESS_RW_WRITE (ACCESS_RW).</summary>
    public const uint AccessWrite = 1;

    /// <summary>MOCK_ACCESS_RW_SLOW_PATH.</summary>
    public const uint AccessRwSlowPath = 4;

    /// <summary>MOCK_FLAGS_ACCESS_SYZ (accepted; its IOVA translation for syzkaller is not modelled).</summary>
    public const uint AccessSyz = 1 << 16;

    /// <summary>MOCK_PASID_WIDTH.</summary>
    public const int MockPasidWidth = 20;

    /// <summary>The largest length ACCESS_PAGES and ACCESS_RW take (larger → ENOMEM, as the kernel guards kvzalloc).</summary>
    private const ulong MaxAccessLength = 16UL << 20;

    private readonly IommuCore _core;
    private int _mockDevices;

    /// <summary>Creates the handler; mock devices it makes are added to <paramref name="core"/>, behind <paramref name="driver"/>.</summary>
    public MockSelftest(IommuCore core, MockIommuDriver driver)
    {
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(driver);
        _core = core;
        Driver = driver;
    }

    /// <summary>The mock driver the devices sit behind.</summary>
    public MockIommuDriver Driver { get; }

    /// <inheritdoc />
    public Errno Run(IommuFile file, ref IommuTestCmd cmd)
    {
        ArgumentNullException.ThrowIfNull(file);
        return cmd.Op switch
        {
            OpAddReserved => AddReserved(file, cmd.Id, cmd.AddReserved),
            OpMockDomain or OpMockDomainFlags => MockDomain(file, ref cmd),
            OpMockDomainReplace => MockDomainReplace(file, ref cmd),
            OpMdCheckMap => CheckMap(file, cmd.Id, cmd.CheckMap),
            OpMdCheckRefs => CheckRefs(file, cmd.CheckRefs),
            OpCreateAccess => CreateAccess(file, ref cmd),
            OpAccessReplaceIoas => GetAccess(file, cmd.Id, out var access) is var e && e != Errno.None ? e : access!.ReplaceIoas(cmd.AccessReplaceIoas.IoasId),
            OpAccessPages => AccessPages(file, ref cmd),
            OpAccessRw => AccessRw(file, cmd.Id, cmd.AccessRw),
            OpDestroyAccessPages => GetAccess(file, cmd.Id, out var owner) is var d && d != Errno.None ? d : owner!.DestroyItem(cmd.DestroyAccessPages.AccessPagesId),
            _ => Errno.EOPNOTSUPP,
        };
    }

    private static Errno AddReserved(IommuFile file, uint ioasId, IommuTestCmdAddReserved args)
    {
        var ioas = file.Context.Lookup<Ioas>(ioasId);
        if (args.Length == 0 || args.Start > ulong.MaxValue - (args.Length - 1))
        {
            return Errno.EINVAL; // the kernel does not guard these; its interval tree would be corrupted
        }

        ioas.Reserve(args.Start, args.Start + (args.Length - 1), owner: null!);
        return Errno.None;
    }

    private Errno MockDomain(IommuFile file, ref IommuTestCmd cmd)
    {
        var flags = cmd.Op == OpMockDomainFlags ? cmd.MockDomainFlags.DevFlags : 0;
        if ((flags & ~(DeviceNoDirty | DeviceHugeIova | DevicePasid)) != 0)
        {
            return Errno.EINVAL;
        }

        var ptId = cmd.Id;
        var context = file.Context;
        IommuDevice? device = null;
        IommufdDevice? bound = null;
        Hwpt? hwpt = null;
        var rid = FreeRid() ?? throw new IoasidException(Errno.ENOMEM, "no free RID for another mock device");
        var pci = new PciDevice(rid, $"iommufd_mock{++_mockDevices}", pasidBits: (flags & DevicePasid) != 0 ? MockPasidWidth : 0);
        var noDirty = (flags & DeviceNoDirty) != 0;
        var sobj = file.CreateSelftestObject(
            build: () =>
            {
                if (noDirty)
                {
                    Driver.DevicesWithoutDirtyTracking.Add(rid);
                }

                device = _core.AddDevice(pci);
                try
                {
                    bound = context.BindDevice(_core, device);
                    try
                    {
                        hwpt = IoasidId.IsValid(ptId)
                            ? bound.Attach(new IoasidId(ptId))
                            : throw new IoasidException(Errno.ENOENT, $"no object with id {ptId}");
                    }
                    catch
                    {
                        bound.Unbind();
                        throw;
                    }
                }
                catch
                {
                    _core.RemoveDevice(device);
                    Driver.DevicesWithoutDirtyTracking.Remove(rid);
                    throw;
                }
            },
            onDestroy: () =>
            {
                bound!.Unbind(); // detaches the RID and every PASID first
                _core.RemoveDevice(device!);
                Driver.DevicesWithoutDirtyTracking.Remove(rid);
            });
        sobj.State = bound;
        cmd.MockDomain.OutStdevId = sobj.Id.Value;
        cmd.MockDomain.OutHwptId = hwpt!.Id.Value;
        cmd.MockDomain.OutIdevId = bound!.Id.Value;
        return Errno.None;
    }

    private static Errno MockDomainReplace(IommuFile file, ref IommuTestCmd cmd)
    {
        var sobj = file.Context.Lookup<SelftestObject>(cmd.Id);
        if (sobj.State is not IommufdDevice device)
        {
            return Errno.EINVAL;
        }

        var ptId = cmd.MockDomainReplace.PtId;
        if (!IoasidId.IsValid(ptId))
        {
            return Errno.ENOENT;
        }

        cmd.MockDomainReplace.PtId = device.Replace(new IoasidId(ptId)).Id.Value;
        return Errno.None;
    }

    /// <summary>MD_CHECK_MAP: every mock-page of the IOVA range must translate to the frame behind the same user address.</summary>
    private static Errno CheckMap(IommuFile file, uint hwptId, IommuTestCmdCheckMap args)
    {
        var hwpt = file.Context.Lookup<HwptPaging>(hwptId);
        if (hwpt.Domain is not MockPagingDomain domain)
        {
            return Errno.EINVAL;
        }

        var pageSize = domain.MinPageSize;
        if (args.Iova % pageSize != 0 || args.Length % pageSize != 0 || args.Uptr % pageSize != 0 || args.Uptr > ulong.MaxValue - args.Length)
        {
            return Errno.EINVAL;
        }

        var mm = file.Mm;
        for (ulong done = 0; done < args.Length; done += pageSize)
        {
            var va = args.Uptr + done;
            var frameCheck = UserFrame(mm, va, out var frame);
            if (frameCheck != Errno.None)
            {
                return frameCheck;
            }

            if (frame is null
                || !IommuCore.IovaToPhys(domain, new Iova(args.Iova + done), out var physical)
                || physical.Value != frame.Value.Value + (va % AddressMath.PageSize))
            {
                return Errno.EINVAL;
            }
        }

        return Errno.None;
    }

    /// <summary>MD_CHECK_REFS: every page of the user range must be pinned exactly <c>refs</c> times.</summary>
    private static Errno CheckRefs(IommuFile file, IommuTestCmdCheckRefs args)
    {
        if (args.Length % AddressMath.PageSize != 0 || args.Uptr % AddressMath.PageSize != 0 || args.Uptr > ulong.MaxValue - args.Length)
        {
            return Errno.EINVAL;
        }

        var mm = file.Mm;
        var frames = file.Context.Process.Machine.Memory.Frames;
        for (ulong done = 0; done < args.Length; done += AddressMath.PageSize)
        {
            var frameCheck = UserFrame(mm, args.Uptr + done, out var frame);
            if (frameCheck != Errno.None)
            {
                return frameCheck;
            }

            var pins = frame is { } present ? frames.PinCount(present) : 0;
            if (pins != args.Refs)
            {
                return Errno.EIO;
            }
        }

        return Errno.None;
    }

    private Errno CreateAccess(IommuFile file, ref IommuTestCmd cmd)
    {
        if ((cmd.CreateAccess.Flags & ~AccessCreateNeedsPinPages) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if (file.Files is null)
        {
            return Errno.ENOMEM; // no descriptor table to install the access fd in
        }

        var staccess = new MockSelftestAccess((cmd.CreateAccess.Flags & AccessCreateNeedsPinPages) != 0);
        var access = file.Context.CreateAccess(staccess);
        try
        {
            access.Attach(IoasidId.IsValid(cmd.Id) ? new IoasidId(cmd.Id) : throw new IoasidException(Errno.ENOENT, $"no object with id {cmd.Id}"));
        }
        catch
        {
            access.Destroy();
            throw;
        }

        staccess.Access = access;
        cmd.CreateAccess.OutAccessFd = (uint)file.Files.Install(staccess);
        return Errno.None;
    }

    private static Errno AccessPages(IommuFile file, ref IommuTestCmd cmd)
    {
        var args = cmd.AccessPages;
        if (args.Length > MaxAccessLength)
        {
            return Errno.ENOMEM;
        }

        if ((args.Flags & ~(AccessWrite | AccessSyz)) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var fdCheck = GetAccess(file, cmd.Id, out var staccess);
        if (fdCheck != Errno.None)
        {
            return fdCheck;
        }

        var errno = staccess!.PinPages(file.Mm, args.Iova, args.Length, args.Uptr, (args.Flags & AccessWrite) != 0, out var itemId);
        if (errno == Errno.None)
        {
            cmd.AccessPages.OutAccessPagesId = itemId;
        }

        return errno;
    }

    private static Errno AccessRw(IommuFile file, uint fd, IommuTestCmdAccessRw args)
    {
        if (args.Length > MaxAccessLength)
        {
            return Errno.ENOMEM;
        }

        if ((args.Flags & ~(AccessWrite | AccessRwSlowPath | AccessSyz)) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        var fdCheck = GetAccess(file, fd, out var staccess);
        if (fdCheck != Errno.None)
        {
            return fdCheck;
        }

        var buffer = new byte[args.Length];
        var access = staccess!.Access!;
        if ((args.Flags & AccessWrite) != 0)
        {
            var fault = UserPointer.ReadBytes(file.Mm, args.Uptr, buffer);
            if (fault != Errno.None)
            {
                return fault;
            }

            access.Write(new Iova(args.Iova), buffer);
            return Errno.None;
        }

        access.Read(new Iova(args.Iova), buffer);
        return UserPointer.WriteBytes(file.Mm, args.Uptr, buffer);
    }

    /// <summary><c>iommufd_access_get</c>: the fd must be an access file of this selftest (EBADFD otherwise, also for a closed fd).</summary>
    private static Errno GetAccess(IommuFile file, uint fd, out MockSelftestAccess? access)
    {
        access = null;
        if (file.Files is null || fd > int.MaxValue || !file.Files.TryGet((int)fd, out access) || access.Access is null)
        {
            return Errno.EBADFD;
        }

        return Errno.None;
    }

    /// <summary>The frame behind a user address: EFAULT when unmapped; null when mapped but never touched.</summary>
    internal static Errno UserFrame(UserAddressSpace mm, ulong va, out PhysAddr? frame)
    {
        frame = null;
        Span<byte> probe = stackalloc byte[1];
        var fault = mm.TryRead(va, probe);
        if (fault != Errno.None)
        {
            return fault;
        }

        if (mm.TryGetFrame(va, out var present))
        {
            frame = present;
        }

        return Errno.None;
    }

    private Rid? FreeRid()
    {
        // Mock devices live on buses 0x80 and up, away from devices a test adds by hand.
        for (var bus = 0x80; bus <= 0xff; bus++)
        {
            for (var dev = 0; dev < 32; dev++)
            {
                var rid = Rid.Create((byte)bus, (byte)dev, 0);
                if (!IsUsed(rid))
                {
                    return rid;
                }
            }
        }

        return null;
    }

    private bool IsUsed(Rid rid)
    {
        foreach (var device in _core.Devices)
        {
            if (device.Rid == rid)
            {
                return true;
            }
        }

        return false;
    }
}
