using System.Buffers.Binary;
using Ioasid.Core.Uapi;

namespace Ioasid.Uapi.Tests;

/// <summary>Nested HWPTs and HWPT_INVALIDATE with a driver that nests (the mock plus the selftest's nested domain).</summary>
public sealed class NestedHwptTests : IDisposable
{
    private const ulong Page = 4096;
    private readonly UapiRig _rig = new(nesting: true);
    private readonly uint _ioas;
    private readonly IommuTestCmdMockDomain _mock;
    private readonly uint _parent;
    private readonly ulong _scratch;

    public NestedHwptTests()
    {
        _ioas = _rig.AllocIoas();
        _mock = _rig.MockDomainOk(_ioas);
        var parent = new IommuHwptAlloc { DevId = _mock.OutIdevId, PtId = _ioas, Flags = UapiConstants.HwptAllocNestParent };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref parent));
        _parent = parent.OutHwptId;
        _scratch = _rig.Process.Mm.Map(Page);
    }

    public void Dispose() => _rig.Dispose();

    private Errno AllocNested(out uint id, uint parent = 0, uint dataType = NestingOps.DataType, uint dataLen = 4, uint flags = 0)
    {
        _rig.Process.Mm.Write(_scratch, BitConverter.GetBytes(0xbadbeefu));
        var cmd = new IommuHwptAlloc { DevId = _mock.OutIdevId, PtId = parent == 0 ? _parent : parent, DataType = dataType, DataLen = dataLen, DataUptr = _scratch, Flags = flags };
        var rc = _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref cmd);
        id = cmd.OutHwptId;
        return rc;
    }

    private (Errno Errno, uint EntryNum) Invalidate(uint hwpt, ulong uptr, uint entryNum, uint entryLen = 8, uint dataType = NestingOps.InvalidateType)
    {
        var cmd = new IommuHwptInvalidate { HwptId = hwpt, DataUptr = uptr, DataType = dataType, EntryLen = entryLen, EntryNum = entryNum };
        var rc = _rig.Ioctl(IoctlNumbers.IommuHwptInvalidate, ref cmd);
        return (rc, cmd.EntryNum);
    }

    private ulong Entries(params (uint Flags, uint Id)[] entries)
    {
        var bytes = new byte[entries.Length * 8];
        for (var i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8), entries[i].Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8 + 4), entries[i].Id);
        }

        var va = _rig.Process.Mm.Map(Page);
        _rig.Process.Mm.Write(va, bytes);
        return va;
    }

    [Fact]
    public void Nested_hwpt_holds_its_parent_and_a_device_attaches_to_it()
    {
        Assert.Equal(Errno.None, AllocNested(out var nested));
        Assert.Equal(Errno.EBUSY, _rig.Destroy(_parent));
        var replace = new IommuTestCmd { Op = Drivers.Mock.MockSelftest.OpMockDomainReplace, Id = _mock.OutStdevId };
        replace.MockDomainReplace.PtId = nested;
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuTestCmd, ref replace));
        Assert.Equal(nested, replace.MockDomainReplace.PtId);
        Assert.Equal(Errno.EBUSY, _rig.Destroy(nested));
        Assert.Equal(Errno.None, _rig.Destroy(_mock.OutStdevId));
        Assert.Equal(Errno.None, _rig.Destroy(nested));
        Assert.Equal(Errno.None, _rig.Destroy(_parent));
    }

    [Fact]
    public void Nested_hwpt_alloc_errors_come_from_the_parent_and_the_driver()
    {
        Assert.Equal(Errno.EINVAL, AllocNested(out _, parent: _mock.OutHwptId)); // an automatic HWPT is no nest parent
        var plain = new IommuHwptAlloc { DevId = _mock.OutIdevId, PtId = _ioas };
        Assert.Equal(Errno.None, _rig.Ioctl(IoctlNumbers.IommuHwptAlloc, ref plain));
        Assert.Equal(Errno.EINVAL, AllocNested(out _, parent: plain.OutHwptId));  // not allocated with NEST_PARENT
        Assert.Equal(Errno.EOPNOTSUPP, AllocNested(out _, dataType: 7));
        Assert.Equal(Errno.EINVAL, AllocNested(out _, dataLen: 2));
        Assert.Equal(Errno.EOPNOTSUPP, AllocNested(out _, flags: UapiConstants.HwptAllocDirtyTracking));
        Assert.Equal(Errno.ENOENT, AllocNested(out _, flags: UapiConstants.HwptFaultIdValid));
        Assert.Equal(Errno.None, AllocNested(out var nested, flags: UapiConstants.HwptAllocPasid));
        Assert.Equal(Errno.EINVAL, AllocNested(out _, parent: nested)); // a nested HWPT is no parent
    }

    [Fact]
    public void Invalidate_hands_entries_to_the_driver_and_reports_how_many_it_handled()
    {
        Assert.Equal(Errno.None, AllocNested(out var nested));
        Assert.Equal((Errno.None, 0u), Invalidate(nested, 0, 0));                    // probing the data type
        Assert.Equal((Errno.EINVAL, 0u), Invalidate(nested, 0, 0, dataType: 5));      // an unsupported type
        Assert.Equal((Errno.None, 2u), Invalidate(nested, Entries((0, 1), (0, 3)), 2));
        Assert.Equal((Errno.EINVAL, 1u), Invalidate(nested, Entries((0, 0), (0, 9), (0, 2)), 3));
        Assert.Equal((Errno.EOPNOTSUPP, 0u), Invalidate(nested, Entries((2, 0)), 1));
        Assert.Equal((Errno.EINVAL, 0u), Invalidate(nested, Entries((0, 0)), 1, entryLen: 12));

        // The second entry lies on an unmapped page: the first is handled, then EFAULT.
        var twoPages = _rig.Process.Mm.Map(2 * Page);
        _rig.Process.Mm.Unmap(twoPages + Page, Page);
        var straddling = twoPages + Page - 8;
        _rig.Process.Mm.Write(straddling, new byte[8]);
        Assert.Equal((Errno.EFAULT, 1u), Invalidate(nested, straddling, 2));
    }
}
