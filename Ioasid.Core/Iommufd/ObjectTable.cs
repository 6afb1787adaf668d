using System.Collections.Generic;

namespace Ioasid.Core.Iommufd;

/// <summary>
/// The context's one id space (the kernel's object xarray with <c>xa_limit_31b</c> and <c>XA_FLAGS_ALLOC1</c>):
/// ids from 1 to 2^31-1, the lowest free id first, and two-phase creation in which a reserved id is not yet
/// visible to lookups.
/// </summary>
internal sealed class ObjectTable
{
    private readonly Dictionary<uint, IommufdObject?> _slots = new();
    private readonly SortedSet<uint> _freeBelowNext = new();
    private uint _next = IoasidId.MinRawValue;

    public int Count => _slots.Count;

    /// <summary>Reserves the lowest free id; its slot stays empty (invisible) until <see cref="Publish"/>.</summary>
    public IoasidId Reserve()
    {
        uint id;
        if (_freeBelowNext.Count > 0)
        {
            id = _freeBelowNext.Min;
            _freeBelowNext.Remove(id);
        }
        else if (_next <= IoasidId.MaxRawValue)
        {
            id = _next++;
        }
        else
        {
            // xa_alloc reports a full id space as EBUSY.
            throw new IoasidException(Errno.EBUSY, "the context's id space (1 to 2^31-1) is full");
        }

        _slots.Add(id, null);
        return new IoasidId(id);
    }

    public void Publish(IommufdObject obj) => _slots[obj.Id.Value] = obj;

    /// <summary>Releases an id, reserved or published, for reuse.</summary>
    public void Release(IoasidId id)
    {
        _slots.Remove(id.Value);
        if (id.Value == _next - 1)
        {
            _next--;
            // Keep the invariant "free ids are below _next" tight so the set stays small.
            while (_next > IoasidId.MinRawValue && _freeBelowNext.Remove(_next - 1))
            {
                _next--;
            }
        }
        else
        {
            _freeBelowNext.Add(id.Value);
        }
    }

    /// <summary>Finds a published object; a reserved id reads as absent, as in the kernel.</summary>
    public bool TryGet(uint id, out IommufdObject obj)
    {
        if (_slots.TryGetValue(id, out var found) && found is not null)
        {
            obj = found;
            return true;
        }

        obj = null!;
        return false;
    }

    public bool IsReserved(uint id) => _slots.TryGetValue(id, out var found) && found is null;

    /// <summary>Published objects in id order.</summary>
    public List<IommufdObject> Snapshot()
    {
        var list = new List<IommufdObject>(_slots.Count);
        foreach (var obj in _slots.Values)
        {
            if (obj is not null)
            {
                list.Add(obj);
            }
        }

        list.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        return list;
    }
}
