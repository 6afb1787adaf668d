using System;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// A mediated device bound to an iommufd context. It is never attached itself: with a PASID its parent's device
/// is attached on that PASID (<see cref="Parent"/>), without one a software <see cref="Access"/> is. Either way the
/// IOMMU layer only ever sees the parent's RID.
/// </summary>
public sealed class MdevBinding
{
    internal MdevBinding(Platform.MediatedDevice mdev, IommufdDevice? parent, IommufdAccess? access)
    {
        Mdev = mdev;
        Parent = parent;
        Access = access;
    }

    // The PASID-compatible HWPT this binding allocated for an attach to an IOAS.
    private HwptPaging? _ownHwpt;

    /// <summary>The mediated device.</summary>
    public Platform.MediatedDevice Mdev { get; }

    /// <summary>The parent's bound device, for an mdev with a PASID.</summary>
    public IommufdDevice? Parent { get; }

    /// <summary>The software access, for an mdev without a PASID.</summary>
    public IommufdAccess? Access { get; }

    /// <summary>
    /// Attaches the mdev's address space to <paramref name="ptId"/>. With a PASID: the parent's device on the mdev's
    /// PASID, to a PASID-compatible HWPT — or, given an IOAS, to a PASID-compatible paging HWPT of that IOAS that the
    /// binding allocates for itself (iommufd refuses an IOAS on a PASID, as a parent driver knows) and destroys on
    /// detach. Without a PASID: the access, to an IOAS only (a HWPT id → EINVAL, as a software access has no domain).
    /// </summary>
    public void Attach(IoasidId ptId)
    {
        if (Parent is not null)
        {
            var pasid = Mdev.Pasid!.Value;
            if (Parent.Context.GetObject(ptId) is not Ioas)
            {
                Parent.Attach(ptId, pasid);
                return;
            }

            var hwpt = Parent.Context.AllocHwptPaging(Parent, ptId, HwptAllocFlags.Pasid);
            try
            {
                Parent.Attach(hwpt.Id, pasid);
            }
            catch
            {
                Parent.Context.Destroy(hwpt.Id);
                throw;
            }

            _ownHwpt = hwpt;
            return;
        }

        var target = Access!.Context.GetObject(ptId);
        if (target is not Ioas)
        {
            throw new IoasidException(Errno.EINVAL, $"an mdev without a PASID reaches memory through a software access, which attaches to an IOAS, not a {target.Kind}");
        }

        Access.Attach(ptId);
    }

    /// <summary>Detaches the mdev's address space (the parent's PASID, or the access).</summary>
    public void Detach()
    {
        if (Parent is not null)
        {
            Parent.Detach(Mdev.Pasid!.Value);
            if (_ownHwpt is { } own)
            {
                _ownHwpt = null;
                Parent.Context.Destroy(own.Id);
            }
        }
        else
        {
            Access!.Detach();
        }
    }

    /// <summary>Ends the binding: detaches, and destroys the access if there is one. The parent stays bound.</summary>
    public void Unbind()
    {
        Detach();
        Access?.Destroy();
    }
}
