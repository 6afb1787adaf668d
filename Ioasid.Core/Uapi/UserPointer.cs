using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Uapi;

/// <summary>
/// <c>copy_from_user</c> / <c>copy_to_user</c> for pointers carried inside uAPI structs (user_va, allowed-iova arrays,
/// bitmaps, data_uptr): they point into the simulated process's memory. A bad pointer, or an element address that
/// wraps around, is EFAULT.
/// </summary>
public static class UserPointer
{
    /// <summary>Reads one <typeparamref name="T"/> at <paramref name="va"/>.</summary>
    public static Errno Read<T>(UserAddressSpace mm, ulong va, out T value)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(mm);
        value = default;
        var size = (ulong)Unsafe.SizeOf<T>();
        if (va > ulong.MaxValue - size)
        {
            return Errno.EFAULT;
        }

        return mm.TryRead(va, MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
    }

    /// <summary>Writes one <typeparamref name="T"/> at <paramref name="va"/>.</summary>
    public static Errno Write<T>(UserAddressSpace mm, ulong va, in T value)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(mm);
        var size = (ulong)Unsafe.SizeOf<T>();
        if (va > ulong.MaxValue - size)
        {
            return Errno.EFAULT;
        }

        var copy = value;
        return mm.TryWrite(va, MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref copy, 1)));
    }

    /// <summary>Reads element <paramref name="index"/> of a user array of <typeparamref name="T"/> at <paramref name="va"/>.</summary>
    public static Errno ReadElement<T>(UserAddressSpace mm, ulong va, ulong index, out T value)
        where T : unmanaged
    {
        value = default;
        return ElementAddress<T>(va, index, out var at) ? Read(mm, at, out value) : Errno.EFAULT;
    }

    /// <summary>Writes element <paramref name="index"/> of a user array of <typeparamref name="T"/> at <paramref name="va"/>.</summary>
    public static Errno WriteElement<T>(UserAddressSpace mm, ulong va, ulong index, in T value)
        where T : unmanaged =>
        ElementAddress<T>(va, index, out var at) ? Write(mm, at, value) : Errno.EFAULT;

    /// <summary>Reads <c>destination.Length</c> bytes at <paramref name="va"/>.</summary>
    public static Errno ReadBytes(UserAddressSpace mm, ulong va, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (destination.IsEmpty)
        {
            return Errno.None;
        }

        return va > ulong.MaxValue - (ulong)destination.Length ? Errno.EFAULT : mm.TryRead(va, destination);
    }

    /// <summary>Writes <paramref name="source"/> at <paramref name="va"/>.</summary>
    public static Errno WriteBytes(UserAddressSpace mm, ulong va, ReadOnlySpan<byte> source)
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (source.IsEmpty)
        {
            return Errno.None;
        }

        return va > ulong.MaxValue - (ulong)source.Length ? Errno.EFAULT : mm.TryWrite(va, source);
    }

    private static bool ElementAddress<T>(ulong va, ulong index, out ulong address)
        where T : unmanaged
    {
        var size = (ulong)Unsafe.SizeOf<T>();
        address = 0;
        if (index > (ulong.MaxValue - va) / size)
        {
            return false;
        }

        address = va + index * size;
        return true;
    }
}
