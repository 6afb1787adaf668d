namespace Ioasid;

/// <summary>Text for <see cref="Errno"/> values, as <c>strerror(3)</c> would print them.</summary>
public static class ErrnoExtensions
{
    /// <summary>The C library's message for <paramref name="errno"/>, e.g. "Device or resource busy".</summary>
    public static string Message(this Errno errno) => errno switch
    {
        Errno.None => "Success",
        Errno.EPERM => "Operation not permitted",
        Errno.ENOENT => "No such file or directory",
        Errno.EINTR => "Interrupted system call",
        Errno.EIO => "Input/output error",
        Errno.ENXIO => "No such device or address",
        Errno.E2BIG => "Argument list too long",
        Errno.EBADF => "Bad file descriptor",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.EFAULT => "Bad address",
        Errno.EBUSY => "Device or resource busy",
        Errno.EEXIST => "File exists",
        Errno.ENODEV => "No such device",
        Errno.EINVAL => "Invalid argument",
        Errno.ENOTTY => "Inappropriate ioctl for device",
        Errno.ENOSPC => "No space left on device",
        Errno.ESPIPE => "Illegal seek",
        Errno.ERANGE => "Numerical result out of range",
        Errno.EDEADLK => "Resource deadlock avoided",
        Errno.EBADE => "Invalid exchange",
        Errno.EOVERFLOW => "Value too large for defined data type",
        Errno.EBADFD => "File descriptor in bad state",
        Errno.EMSGSIZE => "Message too long",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.EADDRINUSE => "Address already in use",
        Errno.ETIMEDOUT => "Connection timed out",
        _ => $"Unknown error {(int)errno}",
    };

    /// <summary>The negative value a kernel ioctl returns for <paramref name="errno"/> (0 for <see cref="Errno.None"/>).</summary>
    public static int ToNegative(this Errno errno) => -(int)errno;
}
