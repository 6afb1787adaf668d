using System.Buffers.Binary;
using Ioasid.Core.Uapi;

namespace Ioasid.Uapi.Tests;

/// <summary>The ioctl transport and the extensible-struct contract (iommufd.md §2), for every command.</summary>
public sealed class ContractTests
{
    public static TheoryData<string> Commands() => new(CommandPayloads.Names);

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_gives_the_kernel_result_for_a_well_formed_struct(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        Assert.Equal(payload.Expected, rig.IoctlRaw(payload.Request, payload.Bytes));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_accepts_a_larger_struct_with_a_zero_tail(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        var larger = CommandPayloads.Resized(payload.Bytes, (uint)payload.Bytes.Length + 24, payload.Bytes.Length + 24);
        Assert.Equal(payload.Expected, rig.IoctlRaw(payload.Request, larger));
        Assert.True(larger.AsSpan(payload.Bytes.Length).IndexOfAnyExcept((byte)0) < 0, "the kernel never writes past its own struct");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_with_a_non_zero_byte_past_the_known_struct_is_E2BIG_and_changes_nothing(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        var larger = CommandPayloads.Resized(payload.Bytes, (uint)payload.Bytes.Length + 8, payload.Bytes.Length + 8);
        larger[^3] = 0x5a;
        var objects = rig.File.Context.ObjectCount;
        var before = larger.ToArray();
        Assert.Equal(Errno.E2BIG, rig.IoctlRaw(payload.Request, larger));
        Assert.Equal(objects, rig.File.Context.ObjectCount);
        Assert.Equal(before, larger);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_with_a_size_below_its_minimum_is_EINVAL(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        Assert.Equal(Errno.EINVAL, rig.IoctlRaw(payload.Request, CommandPayloads.Resized(payload.Bytes, payload.MinSize - 1, payload.Bytes.Length)));
        Assert.Equal(Errno.EINVAL, rig.IoctlRaw(payload.Request, CommandPayloads.Resized(payload.Bytes, 0, payload.Bytes.Length)));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_at_exactly_its_minimum_size_is_zero_extended(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        var minimal = CommandPayloads.Resized(payload.Bytes, payload.MinSize, (int)payload.MinSize);
        Assert.Equal(payload.Expected, rig.IoctlRaw(payload.Request, minimal));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_whose_buffer_is_shorter_than_its_size_is_EFAULT(string name)
    {
        using var rig = new UapiRig();
        var payload = CommandPayloads.Build(name, rig);
        Assert.Equal(Errno.EFAULT, rig.IoctlRaw(payload.Request, payload.Bytes.AsSpan(0, payload.Bytes.Length - 1).ToArray()));
        Assert.Equal(Errno.EFAULT, rig.IoctlRaw(payload.Request, new byte[3]));
        Assert.Equal(Errno.EFAULT, rig.IoctlRaw(payload.Request, []));
    }

    [Fact]
    public void Output_is_copied_back_only_up_to_the_callers_size()
    {
        using var rig = new UapiRig();
        var ioas = rig.AllocIoas();
        var mock = rig.MockDomainOk(ioas);
        var info = ExtensibleStruct.ToBytes(new IommuHwInfo { Size = 32, DevId = mock.OutIdevId });
        info.AsSpan(32).Fill(0xee); // out_capabilities lies past the caller's struct
        Assert.Equal(Errno.None, rig.IoctlRaw(IoctlNumbers.IommuGetHwInfo, info));
        Assert.All(info[32..], b => Assert.Equal(0xee, b));
    }

    [Theory]
    [InlineData(0x3B95u)] // inside the table's reach but no command
    [InlineData(0x3B9Fu)]
    [InlineData(0x3C80u)] // right nr, wrong type
    [InlineData(0x40283B85u)] // IOMMU_IOAS_MAP with direction and size bits
    [InlineData(0x3B10u)] // below the table: VFIO compat does not know it
    [InlineData(0x3B75u)] // VFIO_IOMMU_DIRTY_PAGES
    [InlineData(0x3BA1u)]
    public void Unknown_requests_are_ENOTTY(uint request)
    {
        using var rig = new UapiRig();
        Assert.Equal(Errno.ENOTTY, rig.IoctlRaw(request, new byte[64]));
    }

    [Fact]
    public void Test_cmd_without_a_selftest_handler_is_ENOTTY()
    {
        using var rig = new UapiRig(selftest: false);
        var cmd = new byte[72];
        BinaryPrimitives.WriteUInt32LittleEndian(cmd, 72);
        Assert.Equal(Errno.ENOTTY, rig.IoctlRaw(IoctlNumbers.IommuTestCmd, cmd));
    }

    [Fact]
    public void Closed_and_non_ioctl_descriptors_are_EBADF_and_ENOTTY()
    {
        using var rig = new UapiRig();
        Assert.Equal(Errno.EBADF, rig.IoctlRaw(IoctlNumbers.IommuIoasAlloc, new byte[12], fd: 99));
        var memfd = rig.Files.Install(rig.Machine.CreateMemFd("m", 4096));
        Assert.Equal(Errno.ENOTTY, rig.IoctlRaw(IoctlNumbers.IommuIoasAlloc, new byte[12], fd: memfd));
    }
}
