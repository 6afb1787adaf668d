using System.Threading;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// An object owned by an <see cref="IommufdContext"/> under an <see cref="IoasidId"/>. Like the kernel's
/// <c>struct iommufd_object</c> it counts its long-term users: the object table holds one, and every object or
/// driver that depends on it holds one more. Destroying it succeeds only when the table is the last user.
/// </summary>
public abstract class IommufdObject
{
    private int _users = 1; // the object table's own reference

    /// <summary>Creates an object of <paramref name="context"/> under the reserved <paramref name="id"/>.</summary>
    private protected IommufdObject(IommufdContext context, IoasidId id)
    {
        Context = context;
        Id = id;
    }

    /// <summary>The context that owns the object.</summary>
    public IommufdContext Context { get; }

    /// <summary>The object's id, unique among the live objects of its context.</summary>
    public IoasidId Id { get; }

    /// <summary>The kind of object.</summary>
    public abstract ObjectKind Kind { get; }

    /// <summary>The number of long-term users, counting the object table's own reference.</summary>
    public int Users => Volatile.Read(ref _users);

    /// <summary>Whether the object has been destroyed and removed from its context.</summary>
    public bool IsDestroyed { get; private set; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} {Id}";

    /// <summary>Another object (or a driver) starts depending on this one.</summary>
    internal void AddUser() => Interlocked.Increment(ref _users);

    /// <summary>A dependent object (or a driver) lets go of this one.</summary>
    internal void RemoveUser()
    {
        if (Interlocked.Decrement(ref _users) < 1)
        {
            throw new System.InvalidOperationException($"{this}: user count dropped below the table's own reference.");
        }
    }

    /// <summary>Whether only the object table still holds the object, so it may be destroyed.</summary>
    internal bool IsOnlyHeldByTable => Users == 1;

    /// <summary>
    /// Releases everything the object holds (its references on other objects, pins, reservations). Called once,
    /// with the context lock held, after the object left the table.
    /// </summary>
    private protected abstract void Release();

    internal void DestroyObject()
    {
        IsDestroyed = true;
        Release();
    }
}
