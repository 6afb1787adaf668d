using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Uapi;

/// <summary>
/// An open <c>/dev/iommu</c> (the kernel's <c>iommufd_fops</c>): the byte-exact ioctl layer over one
/// <see cref="IommufdContext"/>. Requests are decoded as the kernel does — <c>nr</c> inside the command table runs the
/// command after the extensible-struct contract, anything else goes to the VFIO type1 compat handler, and what no one
/// knows is ENOTTY. Every result is 0 or a negative errno; bad input never throws.
/// </summary>
public sealed partial class IommuFile : IUapiFile
{
    /// <summary>The nr of the last command in the table without a selftest handler (IOMMU_HW_QUEUE_ALLOC).</summary>
    private const byte LastCommandNr = 0x94;

    /// <summary>The nr of IOMMU_TEST_CMD, the table's end when a selftest handler is present.</summary>
    private const byte TestCommandNr = 0xa0;

    private readonly List<SelftestObject> _selftestObjects = new();

    /// <summary>
    /// Wraps <paramref name="context"/> as an open file. <paramref name="files"/> resolves the fds some commands carry
    /// (IOAS_MAP_FILE, selftest accesses); <paramref name="selftest"/> enables IOMMU_TEST_CMD.
    /// </summary>
    public IommuFile(IommufdContext context, FileTable? files = null, IIommufdSelftest? selftest = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        Files = files;
        Selftest = selftest;
    }

    /// <summary>The context behind the file.</summary>
    public IommufdContext Context { get; }

    /// <summary>The descriptor table fds in commands are looked up in (null: every fd is EBADF).</summary>
    public FileTable? Files { get; }

    /// <summary>The selftest handler (the kernel's CONFIG_IOMMUFD_TEST module), or null.</summary>
    public IIommufdSelftest? Selftest { get; }

    /// <summary>The process whose memory struct pointers refer to.</summary>
    public Platform.UserAddressSpace Mm => Context.Process.Mm;

    /// <inheritdoc />
    public int Ioctl(uint request, Span<byte> arg)
    {
        try
        {
            lock (Context.Sync)
            {
                return Dispatch(request, arg);
            }
        }
        catch (IoasidException error)
        {
            return error.Errno.ToNegative();
        }
    }

    /// <inheritdoc />
    public int Ioctl(uint request, ulong value)
    {
        Span<byte> arg = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(arg, value);
        try
        {
            lock (Context.Sync)
            {
                return IsValueRequest(request) ? VfioCompatIoctl(request, arg) : Dispatch(request, Span<byte>.Empty);
            }
        }
        catch (IoasidException error)
        {
            return error.Errno.ToNegative();
        }
    }

    /// <summary>Closing the file: selftest mock devices go first (their destroy unbinds), then every object.</summary>
    public void Release()
    {
        lock (Context.Sync)
        {
            foreach (var sobj in _selftestObjects.ToArray())
            {
                if (!sobj.IsDestroyed && sobj.Users == 1)
                {
                    Context.Destroy(sobj.Id);
                }
            }

            _selftestObjects.Clear();
        }

        Context.Dispose();
    }

    /// <summary>
    /// Creates a SELFTEST object (a mock device's handle, as IOMMU_TEST_OP_MOCK_DOMAIN makes): <paramref name="build"/>
    /// runs while the object's id is reserved, so everything it creates gets higher ids, and a throw releases the id;
    /// <paramref name="onDestroy"/> runs when IOMMU_DESTROY (or close) ends the object.
    /// </summary>
    internal SelftestObject CreateSelftestObject(Action build, Action onDestroy)
    {
        var sobj = Context.Create(id =>
        {
            build();
            return new SelftestObject(Context, id, onDestroy);
        });
        _selftestObjects.Add(sobj);
        return sobj;
    }

    private static bool IsValueRequest(uint request) =>
        request is IoctlNumbers.VfioCheckExtension or IoctlNumbers.VfioSetIommu or IoctlNumbers.VfioGetApiVersion;

    private int Dispatch(uint request, Span<byte> arg)
    {
        var nr = IoctlNumbers.Nr(request);
        var last = Selftest is null ? LastCommandNr : TestCommandNr;
        if (nr < IoctlNumbers.IommufdCmdBase || nr > last)
        {
            return VfioCompatIoctl(request, arg);
        }

        // The kernel reads the size before it compares the request with the table entry.
        if (arg.Length < sizeof(uint))
        {
            return Errno.EFAULT.ToNegative();
        }

        if (request != IoctlNumbers.Io(IoctlNumbers.IommufdType, nr) || (nr > LastCommandNr && nr != TestCommandNr))
        {
            return Errno.ENOTTY.ToNegative();
        }

        return RunCommand(request, arg).ToNegative();
    }

    private Errno RunCommand(uint request, Span<byte> arg) => request switch
    {
        IoctlNumbers.IommuDestroy => Run<IommuDestroy>(arg, 8, Destroy),
        IoctlNumbers.IommuIoasAlloc => Run<IommuIoasAlloc>(arg, 12, IoasAlloc),
        IoctlNumbers.IommuIoasAllowIovas => Run<IommuIoasAllowIovas>(arg, 24, IoasAllowIovas),
        IoctlNumbers.IommuIoasCopy => Run<IommuIoasCopy>(arg, 40, IoasCopy),
        IoctlNumbers.IommuIoasIovaRanges => Run<IommuIoasIovaRanges>(arg, 32, IoasIovaRanges),
        IoctlNumbers.IommuIoasMap => Run<IommuIoasMap>(arg, 40, IoasMap),
        IoctlNumbers.IommuIoasUnmap => Run<IommuIoasUnmap>(arg, 24, IoasUnmap),
        IoctlNumbers.IommuOption => Run<IommuOption>(arg, 24, Option),
        IoctlNumbers.IommuVfioIoas => Run<IommuVfioIoas>(arg, 12, VfioIoas),
        IoctlNumbers.IommuHwptAlloc => Run<IommuHwptAlloc>(arg, 24, HwptAlloc),
        IoctlNumbers.IommuGetHwInfo => Run<IommuHwInfo>(arg, 32, GetHwInfo),
        IoctlNumbers.IommuHwptSetDirtyTracking => Run<IommuHwptSetDirtyTracking>(arg, 16, HwptSetDirtyTracking),
        IoctlNumbers.IommuHwptGetDirtyBitmap => Run<IommuHwptGetDirtyBitmap>(arg, 48, HwptGetDirtyBitmap),
        IoctlNumbers.IommuHwptInvalidate => Run<IommuHwptInvalidate>(arg, 32, HwptInvalidate),
        IoctlNumbers.IommuFaultQueueAlloc => Run<IommuFaultAlloc>(arg, 16, FaultQueueAlloc),
        IoctlNumbers.IommuIoasMapFile => Run<IommuIoasMapFile>(arg, 40, IoasMapFile),
        IoctlNumbers.IommuViommuAlloc => Run<IommuViommuAlloc>(arg, 24, ViommuAlloc),
        IoctlNumbers.IommuVdeviceAlloc => Run<IommuVdeviceAlloc>(arg, 24, VdeviceAlloc),
        IoctlNumbers.IommuIoasChangeProcess => Run<IommuIoasChangeProcess>(arg, 8, IoasChangeProcess),
        IoctlNumbers.IommuVeventqAlloc => Run<IommuVeventqAlloc>(arg, 28, VeventqAlloc),
        IoctlNumbers.IommuHwQueueAlloc => Run<IommuHwQueueAlloc>(arg, 40, HwQueueAlloc),
        IoctlNumbers.IommuTestCmd => Run<IommuTestCmd>(arg, 68, TestCmd),
        _ => Errno.ENOTTY,
    };

    /// <summary>The extensible-struct contract around one handler; an <see cref="IoasidException"/> becomes its errno.</summary>
    private static Errno Run<T>(Span<byte> arg, uint minSize, Handler<T> handler)
        where T : unmanaged
    {
        var errno = ExtensibleStruct.CopyIn(arg, minSize, out T cmd, out var userSize);
        if (errno != Errno.None)
        {
            return errno;
        }

        var ucmd = new Ucmd<T>(arg, userSize, cmd);
        try
        {
            return handler(ref ucmd);
        }
        catch (IoasidException error)
        {
            return error.Errno;
        }
    }

    private delegate Errno Handler<T>(ref Ucmd<T> ucmd)
        where T : unmanaged;

    /// <summary>An ioctl in progress (the kernel's <c>iommufd_ucmd</c>): the copied-in struct and where to respond.</summary>
    private ref struct Ucmd<T>
        where T : unmanaged
    {
        private readonly Span<byte> _arg;

        public Ucmd(Span<byte> arg, uint userSize, T cmd)
        {
            _arg = arg;
            UserSize = userSize;
            Cmd = cmd;
        }

        public T Cmd;

        public uint UserSize { get; }

        /// <summary><c>iommufd_ucmd_respond</c>: the whole struct, up to the smaller of the two sizes.</summary>
        public readonly Errno Respond() => ExtensibleStruct.Respond(_arg, Cmd, UserSize);
    }
}
