using System.Buffers.Binary;
using Ioasid.Core.Iommu;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;
using Ioasid.Core.Uapi;
using Ioasid.Core.Vfio;
using Ioasid.Drivers.Mock;

namespace Ioasid.Uapi.Tests;

/// <summary>
/// Random and mutated payloads across every command: each ioctl answers 0 (or a VFIO value) or a known negative
/// errno, nothing throws, and the core's invariants hold — ids, pins, and every area mirrored in every domain.
/// </summary>
public sealed class FuzzTests
{
    private const ulong Page = 4096;
    private const int Iterations = 100_000;

    private static readonly uint[] Requests =
    [
        IoctlNumbers.IommuDestroy, IoctlNumbers.IommuIoasAlloc, IoctlNumbers.IommuIoasAllowIovas, IoctlNumbers.IommuIoasCopy,
        IoctlNumbers.IommuIoasIovaRanges, IoctlNumbers.IommuIoasMap, IoctlNumbers.IommuIoasUnmap, IoctlNumbers.IommuOption,
        IoctlNumbers.IommuVfioIoas, IoctlNumbers.IommuHwptAlloc, IoctlNumbers.IommuGetHwInfo, IoctlNumbers.IommuHwptSetDirtyTracking,
        IoctlNumbers.IommuHwptGetDirtyBitmap, IoctlNumbers.IommuHwptInvalidate, IoctlNumbers.IommuFaultQueueAlloc,
        IoctlNumbers.IommuIoasMapFile, IoctlNumbers.IommuViommuAlloc, IoctlNumbers.IommuVdeviceAlloc,
        IoctlNumbers.IommuIoasChangeProcess, IoctlNumbers.IommuVeventqAlloc, IoctlNumbers.IommuHwQueueAlloc,
        IoctlNumbers.IommuTestCmd, IoctlNumbers.VfioGetApiVersion, IoctlNumbers.VfioCheckExtension, IoctlNumbers.VfioSetIommu,
        IoctlNumbers.VfioIommuGetInfo, IoctlNumbers.VfioIommuMapDma, IoctlNumbers.VfioIommuUnmapDma,
    ];

    private static readonly uint[] DeviceRequests =
    [
        IoctlNumbers.VfioDeviceBindIommufd, IoctlNumbers.VfioDeviceAttachIommufdPt, IoctlNumbers.VfioDeviceDetachIommufdPt,
        IoctlNumbers.VfioGroupGetStatus, IoctlNumbers.VfioGroupSetContainer, IoctlNumbers.VfioGroupUnsetContainer,
        IoctlNumbers.VfioGroupGetDeviceFd,
    ];

    private static readonly HashSet<int> KnownErrnos = Enum.GetValues<Errno>().Select(e => (int)e).ToHashSet();

    [Fact]
    public void Random_and_mutated_payloads_return_errnos_and_keep_the_core_consistent()
    {
        var random = new Random(20261122);
        using var rig = new UapiRig(memlock: 256UL << 20);
        rig.Process.CapSysResource = true;
        var buffers = Enumerable.Range(0, 6).Select(i => rig.Buffer(64 * Page, (byte)i)).ToArray();
        var memfd = rig.Files.Install(rig.Machine.CreateMemFd("fuzz", 64 * Page));
        var device = rig.Core.AddDevice(new PciDevice(Rid.Create(4, 0, 0), "fuzz-nic", pasidBits: 8));
        var deviceFd = rig.Files.Install(new VfioDeviceFile(rig.Files, rig.Core, device));
        var groupDevice = rig.Core.AddDevice(new PciDevice(Rid.Create(5, 0, 0), "fuzz-gpu"));
        var groupFd = rig.Files.Install(new VfioGroupFile(rig.Files, rig.Core, groupDevice.Group));
        var fuzzer = new PayloadFuzzer(random, rig, buffers, memfd);
        var outcomes = new Dictionary<int, int>();

        for (var i = 0; i < Iterations; i++)
        {
            var toDevice = random.Next(16) == 0;
            var request = toDevice ? DeviceRequests[random.Next(DeviceRequests.Length)] : PickRequest(random);
            var payload = fuzzer.Build(request);
            if (random.Next(3) == 0)
            {
                payload = fuzzer.Mutate(payload);
            }

            var fd = !toDevice ? rig.Fd : request >= IoctlNumbers.VfioDeviceBindIommufd ? deviceFd : groupFd;
            var rc = random.Next(50) == 0
                ? rig.Files.Ioctl(fd, request, (ulong)random.Next(12))
                : rig.Files.Ioctl(fd, request, payload);
            if (rc > 0)
            {
                Assert.True((request == IoctlNumbers.VfioCheckExtension && rc == 1) || (request == IoctlNumbers.VfioGroupGetDeviceFd && rig.Files.Get(rc) is VfioDeviceFile), $"request 0x{request:x} returned {rc}");
            }
            else
            {
                Assert.True(KnownErrnos.Contains(-rc), $"request 0x{request:x} returned {rc}");
            }

            outcomes[rc] = outcomes.GetValueOrDefault(rc) + 1;
            if (i % 500 == 499)
            {
                fuzzer.Trim();
            }

            if (i % 5000 == 4999)
            {
                CheckInvariants(rig);
            }
        }

        CheckInvariants(rig);

        Assert.True(outcomes.GetValueOrDefault(0) > Iterations / 20, $"too few successes: {outcomes.GetValueOrDefault(0)}");
        Assert.True(outcomes.Count > 10, "the payloads should reach many different errnos");

        // Closing every file returns every pin and object.
        rig.Files.Close(deviceFd);
        rig.Files.Close(groupFd);
        foreach (var fd in fuzzer.AccessFds)
        {
            rig.Files.Close(fd);
        }

        var context = rig.File.Context;
        rig.Files.Close(rig.Fd);
        Assert.True(context.IsClosed);
        Assert.Equal(0, context.ObjectCount);
        Assert.Equal(0, rig.Process.Mm.PinnedVm);
        foreach (var va in buffers)
        {
            for (ulong offset = 0; offset < 64 * Page; offset += Page)
            {
                if (rig.Process.Mm.TryGetFrame(va + offset, out var frame))
                {
                    Assert.Equal(0, rig.Machine.Memory.Frames.PinCount(frame));
                }
            }
        }
    }

    private static uint PickRequest(Random random)
    {
        var roll = random.Next(100);
        return roll switch
        {
            < 3 => (uint)random.Next(0x3B00, 0x3C00), // anything in the type, known or not
            < 4 => (uint)random.Next(),
            _ => Requests[random.Next(Requests.Length)],
        };
    }

    /// <summary>
    /// Ids are unique and in range, the table agrees with itself, every object is held at least by the table, and
    /// every area of every IOAS is mapped in each of its domains to the very frame behind its source, which is pinned.
    /// </summary>
    private static void CheckInvariants(UapiRig rig)
    {
        var context = rig.File.Context;
        var objects = context.Objects;
        Assert.Equal(objects.Count, context.ObjectCount);
        Assert.Equal(objects.Count, objects.Select(o => o.Id).Distinct().Count());
        Assert.All(objects, o => Assert.True(o.Users >= 1 && !o.IsDestroyed && o.Id.Value is >= 1 and <= 0x7FFFFFFF));
        var frames = rig.Machine.Memory.Frames;
        foreach (var hwpt in objects.OfType<HwptPaging>())
        {
            Assert.Contains(hwpt.Ioas, objects);
            foreach (var area in hwpt.Ioas.Areas)
            {
                for (var offset = 0UL; offset < area.Range.Length; offset += Page)
                {
                    var iova = area.Range.Start.Value + offset;
                    Assert.True(IommuCore.IovaToPhys(hwpt.Domain, new Iova(iova), out var physical), $"IOVA 0x{iova:x} of {area} is missing from {hwpt}");
                    Assert.True(frames.PinCount(new PhysAddr(physical.Value & ~(Page - 1))) >= 1, $"the frame behind 0x{iova:x} is not pinned");
                    if (!area.FromFile)
                    {
                        Assert.True(rig.Process.Mm.TryGetFrame(area.SourceAddress + offset, out var frame));
                        Assert.Equal(frame.Value + ((area.SourceAddress + offset) % Page), physical.Value);
                    }
                }

                var before = area.Range.Start.Value - 1;
                if (area.Range.Start.Value % Page == 0 && hwpt.Ioas.FindArea(new Iova(before)) is null)
                {
                    Assert.False(IommuCore.IovaToPhys(hwpt.Domain, new Iova(before), out _), $"0x{before:x} translates though no area holds it");
                }
            }
        }
    }

    /// <summary>Builds plausible payloads from the live state (ids, buffers, fds) and mutates them.</summary>
    private sealed class PayloadFuzzer(Random random, UapiRig rig, ulong[] buffers, int memfd)
    {
        private readonly ulong _scratch = rig.Process.Mm.Map(Page);
        private IReadOnlyList<IommufdObject> _objects = [];
        private List<IoasAreaInfo>? _areas;
        private int _builds;

        public List<int> AccessFds { get; } = new();

        private uint Id()
        {
            var objects = _objects;
            return random.Next(10) switch
            {
                0 => 0,
                1 => (uint)random.Next(1, 64),
                2 => uint.MaxValue,
                _ => objects.Count == 0 ? 1 : objects[random.Next(objects.Count)].Id.Value,
            };
        }

        private uint IdOf<T>()
            where T : IommufdObject
        {
            var matching = _objects.OfType<T>().ToList();
            return matching.Count == 0 || random.Next(8) == 0 ? Id() : matching[random.Next(matching.Count)].Id.Value;
        }

        private ulong Va() => random.Next(12) switch
        {
            0 => 0,
            1 => (ulong)random.NextInt64(),
            2 => buffers[random.Next(buffers.Length)] + (ulong)random.Next(64 * 4096),
            _ => buffers[random.Next(buffers.Length)] + Page * (ulong)random.Next(48),
        };

        private ulong Length() => random.Next(14) switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            2 => (ulong)random.Next(1, 5000),
            3 => Page * (ulong)random.Next(1, 16) + (ulong)random.Next(2),
            4 when random.Next(8) == 0 => 2UL << 20,
            _ => Page * (ulong)random.Next(1, 8),
        };

        private ulong Iova()
        {
            var areas = _areas ??= _objects.OfType<Ioas>().SelectMany(i => i.Areas).ToList();
            return random.Next(8) switch
            {
                0 => 0,
                1 => ulong.MaxValue - (ulong)random.Next(3) * Page,
                2 => MockIommuDriver.ApertureStart + Page * (ulong)random.Next(64),
                3 => (ulong)random.NextInt64(),
                _ when areas.Count > 0 => areas[random.Next(areas.Count)].Range.Start.Value + Page * (ulong)random.Next(3),
                _ => 0x100_0000 + Page * (ulong)random.Next(256),
            };
        }

        private uint Flags(uint known) => random.Next(10) == 0 ? (uint)random.Next() : (uint)random.Next((int)known + 1) & known;

        public byte[] Build(uint request)
        {
            // The live state is sampled now and then: stale ids are as good a fuzz input as fresh ones.
            if (_builds++ % 32 == 0)
            {
                _objects = rig.File.Context.Objects;
                _areas = null;
            }

            switch (request)
            {
                case IoctlNumbers.IommuDestroy:
                    return Bytes(new IommuDestroy { Size = 8, Id = Id() });
                case IoctlNumbers.IommuIoasAlloc:
                    return Bytes(new IommuIoasAlloc { Size = 12, Flags = random.Next(20) == 0 ? 1u : 0 });
                case IoctlNumbers.IommuIoasAllowIovas:
                {
                    var array = _scratch;
                    var start = 0x100_0000UL + Page * (ulong)random.Next(1024);
                    rig.Process.Mm.Write(array, Bytes(new IommuIovaRange { Start = start, Last = start + Length() }));
                    return Bytes(new IommuIoasAllowIovas { Size = 24, IoasId = IdOf<Ioas>(), NumIovas = (uint)random.Next(3), AllowedIovas = random.Next(10) == 0 ? Va() : array });
                }

                case IoctlNumbers.IommuIoasCopy:
                    return Bytes(new IommuIoasCopy { Size = 40, Flags = Flags(7), DstIoasId = IdOf<Ioas>(), SrcIoasId = IdOf<Ioas>(), Length = Length(), DstIova = Iova(), SrcIova = Iova() });
                case IoctlNumbers.IommuIoasIovaRanges:
                    return Bytes(new IommuIoasIovaRanges { Size = 32, IoasId = IdOf<Ioas>(), NumIovas = (uint)random.Next(4), AllowedIovas = Va() });
                case IoctlNumbers.IommuIoasMap:
                    return Bytes(new IommuIoasMap { Size = 40, Flags = Flags(7), IoasId = IdOf<Ioas>(), UserVa = Va(), Length = Length(), Iova = Iova() });
                case IoctlNumbers.IommuIoasUnmap:
                    return random.Next(6) == 0
                        ? Bytes(new IommuIoasUnmap { Size = 24, IoasId = IdOf<Ioas>(), Length = ulong.MaxValue })
                        : Bytes(new IommuIoasUnmap { Size = 24, IoasId = IdOf<Ioas>(), Iova = Iova(), Length = Length() });
                case IoctlNumbers.IommuOption:
                    return Bytes(new IommuOption { Size = 24, OptionId = (uint)random.Next(3), Op = (ushort)random.Next(3), ObjectId = random.Next(3) == 0 ? 0 : IdOf<Ioas>(), Val64 = (ulong)random.Next(3) });
                case IoctlNumbers.IommuVfioIoas:
                    return Bytes(new IommuVfioIoas { Size = 12, IoasId = IdOf<Ioas>(), Op = (ushort)random.Next(4) });
                case IoctlNumbers.IommuHwptAlloc:
                    return Bytes(new IommuHwptAlloc { Size = 48, Flags = Flags(0xb), DevId = IdOf<IommufdDevice>(), PtId = random.Next(2) == 0 ? IdOf<Ioas>() : IdOf<HwptPaging>(), DataType = random.Next(6) == 0 ? 1u : 0, DataLen = random.Next(6) == 0 ? 24u : 0, DataUptr = Va() });
                case IoctlNumbers.IommuGetHwInfo:
                    return Bytes(new IommuHwInfo { Size = 40, Flags = Flags(1), DevId = IdOf<IommufdDevice>(), DataLen = (uint)random.Next(64), DataUptr = Va(), InDataType = random.Next(2) == 0 ? 0 : MockIommuDriver.HwInfoType });
                case IoctlNumbers.IommuHwptSetDirtyTracking:
                    return Bytes(new IommuHwptSetDirtyTracking { Size = 16, Flags = Flags(1), HwptId = IdOf<HwptPaging>() });
                case IoctlNumbers.IommuHwptGetDirtyBitmap:
                    return Bytes(new IommuHwptGetDirtyBitmap { Size = 48, HwptId = IdOf<HwptPaging>(), Flags = Flags(1), Iova = Iova(), Length = Length(), PageSize = random.Next(5) == 0 ? (ulong)random.Next(3) : Page, Data = Va() });
                case IoctlNumbers.IommuHwptInvalidate:
                    return Bytes(new IommuHwptInvalidate { Size = 32, HwptId = Id(), DataUptr = Va(), DataType = (uint)random.Next(3), EntryLen = (uint)random.Next(32), EntryNum = (uint)random.Next(4) });
                case IoctlNumbers.IommuFaultQueueAlloc:
                    return Bytes(new IommuFaultAlloc { Size = 16, Flags = Flags(1) });
                case IoctlNumbers.IommuIoasMapFile:
                    return Bytes(new IommuIoasMapFile { Size = 40, Flags = Flags(7), IoasId = IdOf<Ioas>(), Fd = random.Next(4) == 0 ? random.Next(20) : memfd, Start = Page * (ulong)random.Next(70), Length = Length(), Iova = Iova() });
                case IoctlNumbers.IommuViommuAlloc:
                    return Bytes(new IommuViommuAlloc { Size = 40, Type = (uint)random.Next(3), DevId = IdOf<IommufdDevice>(), HwptId = IdOf<HwptPaging>() });
                case IoctlNumbers.IommuVdeviceAlloc:
                    return Bytes(new IommuVdeviceAlloc { Size = 24, ViommuId = Id(), DevId = IdOf<IommufdDevice>(), VirtId = (ulong)random.Next(8) });
                case IoctlNumbers.IommuIoasChangeProcess:
                    return Bytes(new IommuIoasChangeProcess { Size = 8, Reserved = random.Next(10) == 0 ? 1u : 0 });
                case IoctlNumbers.IommuVeventqAlloc:
                    return Bytes(new IommuVeventqAlloc { Size = 32, ViommuId = Id(), Type = (uint)random.Next(3), VeventqDepth = (uint)random.Next(3) });
                case IoctlNumbers.IommuHwQueueAlloc:
                    return Bytes(new IommuHwQueueAlloc { Size = 40, ViommuId = Id(), Type = (uint)random.Next(3), Length = Length(), NestingParentIova = Iova() });
                case IoctlNumbers.IommuTestCmd:
                    return TestCmd();
                case IoctlNumbers.VfioCheckExtension:
                case IoctlNumbers.VfioSetIommu:
                case IoctlNumbers.VfioGetApiVersion:
                    return Bytes((ulong)random.Next(12));
                case IoctlNumbers.VfioIommuGetInfo:
                {
                    var info = new byte[random.Next(8, 120)];
                    BinaryPrimitives.WriteUInt32LittleEndian(info, (uint)random.Next(130));
                    return info;
                }

                case IoctlNumbers.VfioIommuMapDma:
                    return Bytes(new VfioIommuType1DmaMap { Argsz = 32, Flags = Flags(3), Vaddr = Va(), Iova = Iova(), Size = Length() });
                case IoctlNumbers.VfioIommuUnmapDma:
                    return Bytes(new VfioIommuType1DmaUnmap { Argsz = 24, Flags = random.Next(8) == 0 ? 2u : 0, Iova = Iova(), Size = Length() });
                case IoctlNumbers.VfioDeviceBindIommufd:
                    return Bytes(new VfioDeviceBindIommufd { Argsz = 16, Iommufd = random.Next(4) == 0 ? random.Next(-1, 12) : rig.Fd });
                case IoctlNumbers.VfioDeviceAttachIommufdPt:
                    return Bytes(new VfioDeviceAttachIommufdPt { Argsz = 16, Flags = Flags(1), PtId = random.Next(2) == 0 ? IdOf<Ioas>() : IdOf<HwptPaging>(), Pasid = (uint)random.Next(4) });
                case IoctlNumbers.VfioDeviceDetachIommufdPt:
                    return Bytes(new VfioDeviceDetachIommufdPt { Argsz = 12, Flags = Flags(1), Pasid = (uint)random.Next(4) });
                case IoctlNumbers.VfioGroupGetStatus:
                    return Bytes(new VfioGroupStatus { Argsz = 8 });
                case IoctlNumbers.VfioGroupSetContainer:
                    return Bytes(random.Next(4) == 0 ? random.Next(-1, 12) : rig.Fd);
                case IoctlNumbers.VfioGroupGetDeviceFd:
                    return random.Next(4) == 0 ? "nope\0"u8.ToArray() : "fuzz-gpu\0"u8.ToArray();
                default:
                {
                    var bytes = new byte[random.Next(0, 96)];
                    random.NextBytes(bytes);
                    return bytes;
                }
            }
        }

        private byte[] TestCmd()
        {
            var cmd = new IommuTestCmd { Size = 72, Op = (uint)random.Next(14) };
            switch (cmd.Op)
            {
                case MockSelftest.OpMockDomain:
                case MockSelftest.OpMockDomainFlags:
                    cmd.Id = random.Next(2) == 0 ? IdOf<Ioas>() : IdOf<HwptPaging>();
                    cmd.MockDomainFlags.DevFlags = Flags(7);
                    break;
                case MockSelftest.OpMockDomainReplace:
                    cmd.Id = IdOf<SelftestObject>();
                    cmd.MockDomainReplace.PtId = random.Next(2) == 0 ? IdOf<Ioas>() : IdOf<HwptPaging>();
                    break;
                case MockSelftest.OpMdCheckMap:
                    cmd.Id = IdOf<HwptPaging>();
                    cmd.CheckMap = new IommuTestCmdCheckMap { Iova = Iova(), Length = Length(), Uptr = Va() };
                    break;
                case MockSelftest.OpMdCheckRefs:
                    cmd.CheckRefs = new IommuTestCmdCheckRefs { Length = Length(), Uptr = Va(), Refs = (uint)random.Next(3) };
                    break;
                case MockSelftest.OpCreateAccess:
                    cmd.Id = IdOf<Ioas>();
                    cmd.CreateAccess.Flags = Flags(1);
                    break;
                case MockSelftest.OpAccessPages:
                    cmd.Id = AccessFd();
                    cmd.AccessPages = new IommuTestCmdAccessPages { Flags = Flags(1), Iova = Iova(), Length = Length(), Uptr = random.Next(2) == 0 ? 0 : Va() };
                    break;
                case MockSelftest.OpAccessRw:
                    cmd.Id = AccessFd();
                    cmd.AccessRw = new IommuTestCmdAccessRw { Flags = Flags(5), Iova = Iova() + (ulong)random.Next(64), Length = (ulong)random.Next(1, 9000), Uptr = Va() };
                    break;
                case MockSelftest.OpDestroyAccessPages:
                    cmd.Id = AccessFd();
                    cmd.DestroyAccessPages.AccessPagesId = (uint)random.Next(6);
                    break;
                case MockSelftest.OpAccessReplaceIoas:
                    cmd.Id = AccessFd();
                    cmd.AccessReplaceIoas.IoasId = IdOf<Ioas>();
                    break;
                case MockSelftest.OpAddReserved:
                    cmd.Id = IdOf<Ioas>();
                    cmd.AddReserved = new IommuTestCmdAddReserved { Start = Iova(), Length = Length() };
                    break;
            }

            return Bytes(cmd);
        }

        private uint AccessFd()
        {
            for (var fd = 3; fd < 64; fd++)
            {
                if (rig.Files.Get(fd) is MockSelftestAccess && !AccessFds.Contains(fd))
                {
                    AccessFds.Add(fd);
                }
            }

            return AccessFds.Count == 0 || random.Next(8) == 0 ? (uint)random.Next(12) : (uint)AccessFds[random.Next(AccessFds.Count)];
        }

        public byte[] Mutate(byte[] payload)
        {
            var bytes = payload.ToArray();
            switch (random.Next(5))
            {
                case 0: // flip bytes
                    for (var n = random.Next(1, 4); n > 0 && bytes.Length > 0; n--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                    }

                    return bytes;
                case 1: // truncate
                    return bytes[..random.Next(bytes.Length + 1)];
                case 2: // a tail, zero or not, with the size claiming it
                {
                    var longer = new byte[bytes.Length + random.Next(1, 32)];
                    bytes.CopyTo(longer, 0);
                    if (random.Next(2) == 0)
                    {
                        longer[random.Next(bytes.Length, longer.Length)] = (byte)random.Next(1, 256);
                    }

                    if (longer.Length >= 4)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(longer, (uint)longer.Length);
                    }

                    return longer;
                }

                case 3: // a wild size field
                    if (bytes.Length >= 4)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes, random.Next(3) == 0 ? uint.MaxValue : (uint)random.Next(0, 128));
                    }

                    return bytes;
                default: // pure noise
                    random.NextBytes(bytes);
                    return bytes;
            }
        }

        /// <summary>Keeps the state small: drops extra mock devices, HWPTs and IOASes, and now and then unmaps everything.</summary>
        public void Trim()
        {
            var context = rig.File.Context;
            foreach (var sobj in context.Objects.OfType<SelftestObject>().Skip(3).ToList())
            {
                Assert.Equal(Errno.None, rig.Destroy(sobj.Id.Value));
            }

            foreach (var hwpt in context.Objects.OfType<HwptPaging>().Where(h => !h.IsAuto).Skip(2).ToList())
            {
                rig.Destroy(hwpt.Id.Value); // EBUSY while attached: fine
            }

            foreach (var ioas in context.Objects.OfType<Ioas>().Skip(5).ToList())
            {
                rig.Destroy(ioas.Id.Value);
            }

            if (random.Next(3) == 0)
            {
                foreach (var ioas in context.Objects.OfType<Ioas>())
                {
                    rig.Unmap(ioas.Id.Value, 0, ulong.MaxValue, out _);
                }
            }
        }

        private static byte[] Bytes<T>(T value)
            where T : unmanaged => ExtensibleStruct.ToBytes(value);
    }
}
