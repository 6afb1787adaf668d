using Ioasid.Core.Iommufd;
using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>A machine, a process and an open iommufd context, disposed after each test.</summary>
public sealed class CoreFixture : IDisposable
{
    public CoreFixture(ulong memorySize = 1UL << 30)
    {
        Machine = new Machine(memorySize);
        Process = Machine.CreateProcess();
        Context = new IommufdContext(Process);
    }

    public Machine Machine { get; }

    public UserProcess Process { get; }

    public IommufdContext Context { get; }

    public void Dispose() => Context.Dispose();
}

public static class ErrnoAssert
{
    /// <summary>Asserts that <paramref name="action"/> fails with exactly <paramref name="errno"/>.</summary>
    public static IoasidException Throws(Errno errno, Action action)
    {
        var error = Assert.Throws<IoasidException>(action);
        Assert.Equal(errno, error.Errno);
        return error;
    }

    public static IoasidException Throws<T>(Errno errno, Func<T> action) => Throws(errno, () => { action(); });
}
