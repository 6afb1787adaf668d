using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Uapi;

/// <summary>
/// A process's file descriptor table for the simulated uAPI: <c>/dev/iommu</c> and <c>/dev/vfio/vfio</c> opens, VFIO
/// group and device files, memfds, and the anonymous files some commands return (selftest accesses). Descriptors
/// are handed out lowest-free first from 3, as after stdin, stdout and stderr.
/// </summary>
public sealed class FileTable
{
    private const int FirstFd = 3;
    private readonly SortedDictionary<int, object> _files = new();
    private readonly object _sync = new();

    /// <summary>Creates the table of <paramref name="process"/>.</summary>
    public FileTable(UserProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        Process = process;
    }

    /// <summary>The process whose memory the pointers inside ioctl structs point into.</summary>
    public UserProcess Process { get; }

    /// <summary>The number of open descriptors.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _files.Count;
            }
        }
    }

    /// <summary>Installs <paramref name="file"/> at the lowest free descriptor and returns it.</summary>
    public int Install(object file)
    {
        ArgumentNullException.ThrowIfNull(file);
        lock (_sync)
        {
            var fd = FirstFd;
            while (_files.ContainsKey(fd))
            {
                fd++;
            }

            _files.Add(fd, file);
            return fd;
        }
    }

    /// <summary>
    /// <c>dup2</c>-style install: puts <paramref name="file"/> at <paramref name="fd"/>, closing what was there.
    /// EBADF for a negative descriptor.
    /// </summary>
    public Errno InstallAt(int fd, object file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (fd < 0)
        {
            return Errno.EBADF;
        }

        object? previous;
        lock (_sync)
        {
            _files.Remove(fd, out previous);
            _files.Add(fd, file);
        }

        if (!ReferenceEquals(previous, file))
        {
            (previous as IUapiFile)?.Release();
        }

        return Errno.None;
    }

    /// <summary>The file open at <paramref name="fd"/>, or null.</summary>
    public object? Get(int fd)
    {
        lock (_sync)
        {
            return _files.TryGetValue(fd, out var file) ? file : null;
        }
    }

    /// <summary>The file open at <paramref name="fd"/> when it is a <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(int fd, [NotNullWhen(true)] out T? file)
        where T : class
    {
        file = Get(fd) as T;
        return file is not null;
    }

    /// <summary><c>close(fd)</c>: EBADF when nothing is open there; a uAPI file gets its release.</summary>
    public Errno Close(int fd)
    {
        object? file;
        lock (_sync)
        {
            if (!_files.Remove(fd, out file))
            {
                return Errno.EBADF;
            }
        }

        (file as IUapiFile)?.Release();
        return Errno.None;
    }

    /// <summary><c>ioctl(fd, request, arg)</c>: EBADF for a closed descriptor, ENOTTY for a file without ioctls.</summary>
    public int Ioctl(int fd, uint request, Span<byte> arg) =>
        Get(fd) switch
        {
            null => Errno.EBADF.ToNegative(),
            IUapiFile file => file.Ioctl(request, arg),
            _ => Errno.ENOTTY.ToNegative(),
        };

    /// <summary><c>ioctl(fd, request, value)</c> for requests whose argument is a number.</summary>
    public int Ioctl(int fd, uint request, ulong value) =>
        Get(fd) switch
        {
            null => Errno.EBADF.ToNegative(),
            IUapiFile file => file.Ioctl(request, value),
            _ => Errno.ENOTTY.ToNegative(),
        };

    /// <summary>
    /// <c>open("/dev/iommu")</c> (or <c>open("/dev/vfio/vfio")</c> with <paramref name="asVfioContainer"/>, which starts
    /// in MM accounting mode). <paramref name="selftest"/> plays the part of <c>CONFIG_IOMMUFD_TEST</c>: with it the file
    /// answers IOMMU_TEST_CMD.
    /// </summary>
    public int OpenIommu(bool asVfioContainer = false, IIommufdSelftest? selftest = null) =>
        Install(new IommuFile(new IommufdContext(Process, asVfioContainer), this, selftest));
}
