namespace Ioasid;

/// <summary>
/// Linux error numbers, with the values of the kernel's <c>asm-generic/errno-base.h</c> and <c>errno.h</c>.
/// Every failing Ioasid operation reports exactly the errno the kernel returns in the same case.
/// </summary>
public enum Errno
{
    /// <summary>Success: no error.</summary>
    None = 0,
    /// <summary>Operation not permitted.</summary>
    EPERM = 1,
    /// <summary>No such object (unknown id, nothing mapped at that IOVA).</summary>
    ENOENT = 2,
    /// <summary>Interrupted system call.</summary>
    EINTR = 4,
    /// <summary>I/O error.</summary>
    EIO = 5,
    /// <summary>No such device or address (e.g. an mmap offset that matches no region).</summary>
    ENXIO = 6,
    /// <summary>Argument list too long; for extensible structs, non-zero bytes past the known size.</summary>
    E2BIG = 7,
    /// <summary>Bad file descriptor.</summary>
    EBADF = 9,
    /// <summary>Out of memory, or the locked-memory limit would be exceeded.</summary>
    ENOMEM = 12,
    /// <summary>Bad address: a user pointer does not point at mapped user memory.</summary>
    EFAULT = 14,
    /// <summary>Device or resource busy: the object is still in use.</summary>
    EBUSY = 16,
    /// <summary>Already exists: the range or attachment is already taken.</summary>
    EEXIST = 17,
    /// <summary>No such device.</summary>
    ENODEV = 19,
    /// <summary>Invalid argument.</summary>
    EINVAL = 22,
    /// <summary>Inappropriate ioctl for device: the file does not know the request.</summary>
    ENOTTY = 25,
    /// <summary>No space left: no free IOVA or id that fits.</summary>
    ENOSPC = 28,
    /// <summary>Illegal seek.</summary>
    ESPIPE = 29,
    /// <summary>Result out of range.</summary>
    ERANGE = 34,
    /// <summary>Resource deadlock would occur.</summary>
    EDEADLK = 35,
    /// <summary>Invalid exchange; the iommufd selftest reports pinned pages that differ from the user's with it.</summary>
    EBADE = 52,
    /// <summary>Value too large for the defined data type.</summary>
    EOVERFLOW = 75,
    /// <summary>File descriptor in bad state: the fd names a file of the wrong kind.</summary>
    EBADFD = 77,
    /// <summary>Message too long: the caller's output array is too small (the needed count is still reported).</summary>
    EMSGSIZE = 90,
    /// <summary>Operation not supported by this object, driver or hardware.</summary>
    EOPNOTSUPP = 95,
    /// <summary>Address already in use.</summary>
    EADDRINUSE = 98,
    /// <summary>Timed out.</summary>
    ETIMEDOUT = 110,
}
