using System;
using System.Collections.Generic;

namespace Ioasid.Core.Platform;

/// <summary>
/// The simulated platform: one <see cref="PhysicalMemory"/>, the user accounts, the processes and the memfds that
/// use it. The iommufd core, the IOMMU drivers and the hardware models all work on the memory of one machine.
/// </summary>
public sealed class Machine
{
    /// <summary>The uid <see cref="CreateProcess"/> uses when none is given: an ordinary unprivileged user.</summary>
    public const uint DefaultUid = 1000;

    private readonly Dictionary<uint, UserAccount> _users = new();
    private int _nextPid = 100;

    /// <summary>Creates a machine with <paramref name="memorySize"/> bytes of physical memory.</summary>
    /// <param name="memorySize">A non-zero multiple of 4 KiB; 64 GiB by default (backed only where touched).</param>
    public Machine(ulong memorySize = PhysicalMemory.DefaultSize)
    {
        Memory = new PhysicalMemory(memorySize);
    }

    /// <summary>The machine's physical memory and, through <see cref="PhysicalMemory.Frames"/>, its frame allocator.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>The account of <paramref name="uid"/>, created on first use: every process of a uid shares it.</summary>
    public UserAccount GetUser(uint uid)
    {
        lock (Memory.Sync)
        {
            if (!_users.TryGetValue(uid, out UserAccount? user))
            {
                user = new UserAccount(Memory, uid);
                _users.Add(uid, user);
            }

            return user;
        }
    }

    /// <summary>Starts a process of <paramref name="uid"/> with an empty address space, default limits and no capabilities.</summary>
    public UserProcess CreateProcess(uint uid = DefaultUid) => new(this, GetUser(uid));

    /// <summary>
    /// Creates a memfd (<c>memfd_create</c>, then <c>ftruncate</c> to <paramref name="size"/>). The caller holds its
    /// one reference, the file descriptor; <see cref="MemFd.Release"/> closes it.
    /// </summary>
    public MemFd CreateMemFd(string name, ulong size = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        var file = new MemFd(Memory, name);
        if (size != 0)
        {
            file.Truncate(size);
        }

        return file;
    }

    /// <summary>The next process id.</summary>
    internal int AllocatePid()
    {
        lock (Memory.Sync)
        {
            return _nextPid++;
        }
    }
}
