using System.Collections.Generic;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Cli.Scripting;

/// <summary>
/// The simulated world a script runs in: one machine, one user process, and the iommufd context that process
/// opened. Commands reach everything through it.
/// </summary>
internal sealed class Session
{
    private readonly Dictionary<int, MemFd> _files = new();
    private int _nextFd = 3; // 0-2 are stdio, as in a real process

    public Session(ulong memorySize = 64UL << 30)
    {
        Machine = new Machine(memorySize);
        Process = Machine.CreateProcess();
        Context = new IommufdContext(Process);
    }

    public Machine Machine { get; }

    public UserProcess Process { get; }

    public IommufdContext Context { get; }

    public int AddFile(MemFd file)
    {
        var fd = _nextFd++;
        _files.Add(fd, file);
        return fd;
    }

    public MemFd File(int fd) =>
        _files.TryGetValue(fd, out var file) ? file : throw new IoasidException(Errno.EBADF, $"fd {fd} is not an open memfd");

    /// <summary>An object id from a script: 0 or anything out of range is simply an id no object has (ENOENT).</summary>
    public T Get<T>(ulong id)
        where T : IommufdObject =>
        id <= IoasidId.MaxRawValue && IoasidId.TryFrom((uint)id, out var handle)
            ? Context.Get<T>(handle)
            : throw new IoasidException(Errno.ENOENT, $"no object with id {id}");
}
