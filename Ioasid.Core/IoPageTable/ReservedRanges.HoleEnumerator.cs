using System;

namespace Ioasid.Core.IoPageTable;

/// <summary>Walks the complement of the reserved union inside a range.</summary>
internal sealed partial class ReservedRanges
{
    /// <summary>
    /// Allocation-free enumerator over the unreserved holes of a range, ascending. A <c>ref struct</c> so it cannot
    /// be kept past a change of the reservations.
    /// </summary>
    internal ref struct HoleEnumerator
    {
        private readonly ReservedRanges _owner;
        private readonly ulong _last;
        private ulong _cursor;
        private int _segment;
        private bool _done;
        private IovaRange _current;

        internal HoleEnumerator(ReservedRanges owner, ulong first, ulong last, int segment)
        {
            _owner = owner;
            _last = last;
            _cursor = first;
            _segment = segment;
            _done = first > last;
            _current = default;
        }

        /// <summary>The hole at the current position.</summary>
        public readonly IovaRange Current => _current;

        /// <summary>Returns itself, so the enumerator can be used directly in <c>foreach</c>.</summary>
        public readonly HoleEnumerator GetEnumerator() => this;

        /// <summary>Advances to the next hole.</summary>
        public bool MoveNext()
        {
            ReservedRanges r = _owner;
            while (!_done)
            {
                if (_segment >= r._segCount || r._segStart[_segment] > _last)
                {
                    // No reservation left in range: the rest of the range is one hole.
                    _current = new IovaRange(_cursor, _last);
                    _done = true;
                    return true;
                }

                ulong segStart = r._segStart[_segment];
                ulong segLast = r._segLast[_segment];
                _segment++;

                bool hole = segStart > _cursor;
                if (hole)
                {
                    _current = new IovaRange(_cursor, segStart - 1);
                }

                // Continue after the segment; a segment reaching the end of the range ends the walk (and avoids
                // overflowing past ulong.MaxValue).
                if (segLast >= _last)
                {
                    _done = true;
                }
                else
                {
                    _cursor = Math.Max(_cursor, segLast + 1);
                }

                if (hole)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
