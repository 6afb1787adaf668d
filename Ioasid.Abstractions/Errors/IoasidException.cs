using System;

namespace Ioasid;

/// <summary>
/// The one exception Ioasid throws for a failed IOMMU operation. It carries the Linux <see cref="Errno"/>
/// the kernel returns in the same case; the operation changed no state.
/// </summary>
public sealed class IoasidException : Exception
{
    /// <summary>Creates the exception for <paramref name="errno"/> with a sentence saying what was wrong.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What was wrong, in plain words.</param>
    public IoasidException(Errno errno, string message)
        : base($"{errno}: {message}")
    {
        Errno = errno;
        Detail = message;
    }

    /// <summary>The Linux error number of the failure.</summary>
    public Errno Errno { get; }

    /// <summary>The plain sentence, without the errno name.</summary>
    public string Detail { get; }
}
