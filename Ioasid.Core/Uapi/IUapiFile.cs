using System;

namespace Ioasid.Core.Uapi;

/// <summary>
/// A simulated open file that answers ioctls the way its kernel driver does: 0 (or a positive value for the few
/// requests that return one) on success, a negative errno otherwise; never an exception for bad input.
/// </summary>
public interface IUapiFile
{
    /// <summary>
    /// <c>ioctl(fd, request, arg)</c> where <paramref name="arg"/> is the user's argument struct. A request whose
    /// argument is a plain number (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) reads it from the first 8 (or 4) bytes.
    /// </summary>
    int Ioctl(uint request, Span<byte> arg);

    /// <summary><c>ioctl(fd, request, value)</c> for requests whose argument is a number, not a pointer.</summary>
    int Ioctl(uint request, ulong value);

    /// <summary>The last close of the file (<c>release</c>).</summary>
    void Release();
}
