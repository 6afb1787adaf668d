using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ioasid.Core.Uapi;

/// <summary>
/// The iommufd extensible-struct contract (<c>copy_struct_from_user</c> and <c>iommufd_ucmd_respond</c>): the caller
/// says how big its struct is in the first u32; smaller than the command's minimum is EINVAL; a shorter struct is
/// zero-extended; a longer one must be zero past what the kernel knows (E2BIG otherwise); and the answer copies back
/// <c>min(user size, kernel size)</c> bytes of the whole struct.
/// </summary>
public static class ExtensibleStruct
{
    /// <summary>
    /// Copies the user's struct in. <paramref name="arg"/> is the memory the argument points at: shorter than 4 bytes
    /// or than the size it claims is EFAULT (the kernel's read would fault).
    /// </summary>
    public static Errno CopyIn<T>(ReadOnlySpan<byte> arg, uint minSize, out T value, out uint userSize)
        where T : unmanaged
    {
        value = default;
        userSize = 0;
        if (arg.Length < sizeof(uint))
        {
            return Errno.EFAULT;
        }

        userSize = BinaryPrimitives.ReadUInt32LittleEndian(arg);
        if (userSize < minSize)
        {
            return Errno.EINVAL;
        }

        var kernelSize = Unsafe.SizeOf<T>();
        if (userSize > (uint)kernelSize)
        {
            // check_zeroed_user over the tail the kernel does not know, as far as it is readable.
            var readable = (int)Math.Min(userSize, (uint)arg.Length);
            if (readable > kernelSize && arg[kernelSize..readable].IndexOfAnyExcept((byte)0) >= 0)
            {
                return Errno.E2BIG;
            }
        }

        if ((ulong)arg.Length < userSize)
        {
            return Errno.EFAULT;
        }

        var copy = (int)Math.Min(userSize, (uint)kernelSize);
        arg[..copy].CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
        return Errno.None;
    }

    /// <summary>Copies <c>min(userSize, sizeof(T))</c> bytes of <paramref name="value"/> back to the user's struct.</summary>
    public static Errno Respond<T>(Span<byte> arg, in T value, uint userSize)
        where T : unmanaged
    {
        var copy = (int)Math.Min(userSize, (uint)Unsafe.SizeOf<T>());
        if (arg.Length < copy)
        {
            return Errno.EFAULT;
        }

        var local = value;
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref local, 1))[..copy].CopyTo(arg);
        return Errno.None;
    }

    /// <summary>Reads a fixed-size (non-extensible) struct such as a VFIO one: the first <c>sizeof(T)</c> bytes, EFAULT when shorter.</summary>
    public static Errno ReadFixed<T>(ReadOnlySpan<byte> arg, out T value)
        where T : unmanaged
    {
        value = default;
        var size = Unsafe.SizeOf<T>();
        if (arg.Length < size)
        {
            return Errno.EFAULT;
        }

        arg[..size].CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
        return Errno.None;
    }

    /// <summary>Writes the first <paramref name="length"/> bytes of <paramref name="value"/> (all of it by default).</summary>
    public static Errno WriteFixed<T>(Span<byte> arg, in T value, int length = -1)
        where T : unmanaged
    {
        var size = length < 0 ? Unsafe.SizeOf<T>() : Math.Min(length, Unsafe.SizeOf<T>());
        if (arg.Length < size)
        {
            return Errno.EFAULT;
        }

        var local = value;
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref local, 1))[..size].CopyTo(arg);
        return Errno.None;
    }

    /// <summary>Serialises a struct to its bytes (for building ioctl arguments).</summary>
    public static byte[] ToBytes<T>(in T value)
        where T : unmanaged
    {
        var local = value;
        return MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref local, 1)).ToArray();
    }

    /// <summary>Reads a struct back from the start of <paramref name="bytes"/> (zero-extended when shorter).</summary>
    public static T FromBytes<T>(ReadOnlySpan<byte> bytes)
        where T : unmanaged
    {
        T value = default;
        var size = Math.Min(bytes.Length, Unsafe.SizeOf<T>());
        bytes[..size].CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
        return value;
    }
}
