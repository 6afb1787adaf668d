using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// A process with a descriptor table, an IOMMU core with the mock driver, and an open <c>/dev/iommu</c> with the mock
/// selftest. Tests talk to it only through raw ioctl bytes.
/// </summary>
internal sealed class UapiRig : IDisposable
{
    public UapiRig(bool selftest = true, bool asVfioContainer = false, ulong memlock = 64UL << 20, bool nesting = false)
    {
        Machine = new Machine(1UL << 30);
        Process = Machine.CreateProcess();
        Process.MemlockLimit = memlock;
        Files = new FileTable(Process);
        Core = new IommuCore();
        Driver = new MockIommuDriver(Core, Machine.Memory);
        Core.RegisterDriver(nesting ? NestingOps.Create(Driver) : Driver.Ops);
        Selftest = new MockSelftest(Core, Driver);
        Fd = Files.OpenIommu(asVfioContainer, selftest ? Selftest : null);
    }

    public Machine Machine { get; }
    public UserProcess Process { get; }
    public FileTable Files { get; }
    public IommuCore Core { get; }
    public MockIommuDriver Driver { get; }
    public MockSelftest Selftest { get; }
    public int Fd { get; }
    public IommuFile File => (IommuFile)Files.Get(Fd)!;

    public void Dispose() => Files.Close(Fd);

    /// <summary>Sends <paramref name="cmd"/> as raw bytes (its size field filled in when 0) and reads the answer back.</summary>
    public Errno Ioctl<T>(uint request, ref T cmd, int fd = -1)
        where T : unmanaged
    {
        var bytes = ExtensibleStruct.ToBytes(cmd);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) == 0 && !IsVfio<T>())
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Unsafe.SizeOf<T>());
        }

        var rc = Files.Ioctl(fd < 0 ? Fd : fd, request, bytes);
        cmd = ExtensibleStruct.FromBytes<T>(bytes);
        return ToErrno(rc);
    }

    /// <summary>Sends raw bytes.</summary>
    public Errno IoctlRaw(uint request, byte[] bytes, int fd = -1) => ToErrno(Files.Ioctl(fd < 0 ? Fd : fd, request, bytes));

    public static Errno ToErrno(int rc)
    {
        Assert.True(rc <= 0, $"ioctl returned {rc}");
        return (Errno)(-rc);
    }

    private static bool IsVfio<T>() => typeof(T).Name.StartsWith("Vfio", StringComparison.Ordinal);

    public uint AllocIoas()
    {
        var cmd = new IommuIoasAlloc();
        Assert.Equal(Errno.None, Ioctl(IoctlNumbers.IommuIoasAlloc, ref cmd));
        return cmd.OutIoasId;
    }

    /// <summary>Maps <paramref name="length"/> bytes of fresh user memory (filled with a pattern) and returns the VA.</summary>
    public ulong Buffer(ulong length, byte seed = 1)
    {
        var va = Process.Mm.Map(length);
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(seed + i * 7);
        }

        Process.Mm.Write(va, bytes);
        return va;
    }

    public Errno Map(uint ioas, ulong va, ulong length, out ulong iova, uint flags = 6, ulong fixedIova = 0)
    {
        var cmd = new IommuIoasMap { Flags = flags, IoasId = ioas, UserVa = va, Length = length, Iova = fixedIova };
        var rc = Ioctl(IoctlNumbers.IommuIoasMap, ref cmd);
        iova = cmd.Iova;
        return rc;
    }

    public ulong MapOk(uint ioas, ulong va, ulong length, uint flags = 6, ulong fixedIova = 0)
    {
        Assert.Equal(Errno.None, Map(ioas, va, length, out var iova, flags, fixedIova));
        return iova;
    }

    public Errno Unmap(uint ioas, ulong iova, ulong length, out ulong unmapped)
    {
        var cmd = new IommuIoasUnmap { IoasId = ioas, Iova = iova, Length = length };
        var rc = Ioctl(IoctlNumbers.IommuIoasUnmap, ref cmd);
        unmapped = cmd.Length;
        return rc;
    }

    /// <summary>IOMMU_TEST_OP_MOCK_DOMAIN: a mock device bound and attached to <paramref name="ptId"/>.</summary>
    public Errno MockDomain(uint ptId, out IommuTestCmdMockDomain result, uint devFlags = 0)
    {
        var cmd = new IommuTestCmd { Op = devFlags == 0 ? MockSelftest.OpMockDomain : MockSelftest.OpMockDomainFlags, Id = ptId };
        cmd.MockDomainFlags.DevFlags = devFlags;
        var rc = Ioctl(IoctlNumbers.IommuTestCmd, ref cmd);
        result = cmd.MockDomain;
        return rc;
    }

    public IommuTestCmdMockDomain MockDomainOk(uint ptId, uint devFlags = 0)
    {
        Assert.Equal(Errno.None, MockDomain(ptId, out var result, devFlags));
        return result;
    }

    public Errno CheckMap(uint hwpt, ulong iova, ulong length, ulong uptr)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpMdCheckMap, Id = hwpt };
        cmd.CheckMap = new IommuTestCmdCheckMap { Iova = iova, Length = length, Uptr = uptr };
        return Ioctl(IoctlNumbers.IommuTestCmd, ref cmd);
    }

    public Errno CheckRefs(ulong uptr, ulong length, uint refs)
    {
        var cmd = new IommuTestCmd { Op = MockSelftest.OpMdCheckRefs };
        cmd.CheckRefs = new IommuTestCmdCheckRefs { Uptr = uptr, Length = length, Refs = refs };
        return Ioctl(IoctlNumbers.IommuTestCmd, ref cmd);
    }

    public Errno Destroy(uint id)
    {
        var cmd = new IommuDestroy { Id = id };
        return Ioctl(IoctlNumbers.IommuDestroy, ref cmd);
    }
}
