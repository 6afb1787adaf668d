using Ioasid.Core.Uapi;
using Ioasid.Drivers.Mock;

namespace Ioasid.Cli.Scripting;

// The session's /dev/iommu as a file: the `ioctl` command talks to the same context as every other command, through
// the byte-exact uAPI layer, with the mock selftest enabled (IOMMU_TEST_CMD).
internal sealed partial class Session
{
    private FileTable? _uapiFiles;
    private IommuFile? _iommuFile;

    /// <summary>The descriptor table the uAPI layer resolves fds in; the session's memfds are mirrored into it.</summary>
    public FileTable UapiFiles
    {
        get
        {
            _uapiFiles ??= new FileTable(Process);
            foreach (var (fd, file) in _files)
            {
                if (!ReferenceEquals(_uapiFiles.Get(fd), file))
                {
                    _uapiFiles.InstallAt(fd, file);
                }
            }

            return _uapiFiles;
        }
    }

    /// <summary>The session's context as an open <c>/dev/iommu</c>.</summary>
    public IommuFile IommuFile => _iommuFile ??= new IommuFile(Context, UapiFiles, new MockSelftest(Iommu, MockDriver));
}
