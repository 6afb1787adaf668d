using System;

namespace Ioasid.Core.IoPageTable;

/// <summary>In-order enumeration of the intervals intersecting a range, walking the leaf chain.</summary>
internal sealed partial class IntervalMap<TValue>
{
    /// <summary>
    /// Allocation-free enumerator over the intervals that intersect a range, in ascending order. A <c>ref struct</c>
    /// so it cannot outlive the caller's frame, where the map could change unnoticed; it also checks the map's version
    /// and throws if the map was modified during enumeration.
    /// </summary>
    internal ref struct IntersectEnumerator
    {
        private readonly IntervalMap<TValue> _map;
        private readonly ulong _last;
        private readonly int _version;
        private int _node;
        private int _index;
        private bool _started;
        private Interval<TValue> _current;

        internal IntersectEnumerator(IntervalMap<TValue> map, int node, int index, ulong last)
        {
            _map = map;
            _node = node;
            _index = index;
            _last = last;
            _version = map._version;
            _started = false;
            _current = default;
        }

        /// <summary>The interval at the current position.</summary>
        public readonly Interval<TValue> Current => _current;

        /// <summary>Returns itself, so the enumerator can be used directly in <c>foreach</c>.</summary>
        public readonly IntersectEnumerator GetEnumerator() => this;

        /// <summary>Advances to the next intersecting interval.</summary>
        /// <exception cref="InvalidOperationException">The map was modified after the enumerator was created.</exception>
        public bool MoveNext()
        {
            IntervalMap<TValue> map = _map;
            if (map._version != _version)
            {
                throw new InvalidOperationException("The interval map was modified during enumeration.");
            }

            if (_node == NoNode)
            {
                return false;
            }

            if (_started)
            {
                _index++;
                if (_index == map._count[_node])
                {
                    _node = map._next[_node];
                    _index = 0;
                    if (_node == NoNode)
                    {
                        return false;
                    }
                }
            }

            _started = true;
            int s = _node * Capacity + _index;
            ulong start = map._lo[s];
            if (start > _last)
            {
                _node = NoNode;
                return false;
            }

            _current = new Interval<TValue>(start, map._hi[s], map._value[s]);
            return true;
        }
    }
}
