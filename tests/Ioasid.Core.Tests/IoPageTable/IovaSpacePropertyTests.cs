using Ioasid.Core.IoPageTable;
using Xunit.Abstractions;

namespace Ioasid.Core.Tests.IoPageTable;

/// <summary>
/// Seeded random sequences of map (fixed and automatic), unmap, reserve, unreserve, allow, alignment changes and
/// lookups, run against <see cref="IovaSpace{TArea}"/> and <see cref="ReferenceIoPageTable"/> side by side. After
/// every step the areas, the IOVA_RANGES holes and the tree invariants must agree; every errno and every
/// automatically chosen IOVA must be identical.
/// </summary>
public sealed class IovaSpacePropertyTests
{
    private const ulong Page = AutoIovaAlignment.PageSize;
    private const ulong Huge = AutoIovaAlignment.HugePageSize;
    private const ulong Max = ulong.MaxValue;

    [Theory]
    [InlineData(1, 20_000)]
    [InlineData(2, 20_000)]
    [InlineData(3, 20_000)]
    [InlineData(20260801, 20_000)]
    public void Matches_reference_model(int seed, int steps) => new Run(seed, _output, deep: false).Execute(steps);

    /// <summary>
    /// Same comparison with few reservations and allowed-list changes, so over a thousand areas accumulate and the
    /// tree grows several levels: exercises the augmented hole search across inner nodes, splits and merges.
    /// </summary>
    [Theory]
    [InlineData(11, 20_000)]
    [InlineData(12, 20_000)]
    public void Matches_reference_model_with_deep_trees(int seed, int steps) => new Run(seed, _output, deep: true).Execute(steps);

    private readonly ITestOutputHelper _output;

    public IovaSpacePropertyTests(ITestOutputHelper output) => _output = output;

    private sealed class Run
    {
        private readonly Random _rng;
        private readonly IovaSpace<int> _sut = new();
        private readonly ReferenceIoPageTable _ref = new();
        private readonly object?[] _owners = [null, new object(), new object(), new object()];
        private int _nextValue;
        private int _step;

        private readonly ITestOutputHelper _output;
        private int _fixedOk;
        private int _maxAreas;
        private int _maxHeight;

        private readonly bool _deep;

        public Run(int seed, ITestOutputHelper output, bool deep)
        {
            _rng = new Random(seed);
            _output = output;
            _deep = deep;
        }

        /// <summary>Cumulative weights: fixed map, auto map, unmap, reserve, unreserve, allow, alignment; the rest queries.</summary>
        private int[] Weights()
        {
            if (!_deep)
            {
                return _ref.Areas.Count > 250 ? [18, 22, 62, 70, 74, 79, 81] : [18, 42, 62, 70, 74, 79, 81];
            }

            return _ref.Areas.Count > 1200 ? [8, 30, 70, 71, 72, 73, 74] : [8, 60, 75, 76, 77, 78, 79];
        }

        public void Execute(int steps)
        {
            int allocOk = 0;
            int allocNoSpace = 0;
            for (_step = 0; _step < steps; _step++)
            {
                int pick = _rng.Next(100);
                int[] w = Weights();
                if (pick < w[0])
                {
                    FixedMap();
                }
                else if (pick < w[1])
                {
                    Errno rc = AutoMap();
                    allocOk += rc == Errno.None ? 1 : 0;
                    allocNoSpace += rc == Errno.ENOSPC ? 1 : 0;
                }
                else if (pick < w[2])
                {
                    Unmap();
                }
                else if (pick < w[3])
                {
                    Reserve();
                }
                else if (pick < w[4])
                {
                    Unreserve();
                }
                else if (pick < w[5])
                {
                    Allow();
                }
                else if (pick < w[6])
                {
                    ulong a = new[] { 1UL, 1UL, 2048UL, Page }[_rng.Next(4)];
                    _sut.IovaAlignment = a;
                    _ref.IovaAlignment = a;
                }
                else
                {
                    Query();
                }

                CompareState();
            }

            _output.WriteLine($"auto maps ok {allocOk}, ENOSPC {allocNoSpace}, fixed maps ok {_fixedOk}, max areas {_maxAreas}, max height {_maxHeight}, reservations {_ref.Reserved.Count}");

            // The generator must actually reach the interesting outcomes.
            Assert.True(allocOk > steps / 20, $"only {allocOk} successful auto maps");
            Assert.True(allocNoSpace > 0, "no ENOSPC was ever produced");
        }

        private ulong Address()
        {
            int r = _rng.Next(100);
            ulong jitter = _rng.Next(8) == 0 ? (ulong)_rng.Next(1, 0x1000) : 0;
            if (r < 65)
            {
                return (ulong)_rng.Next(0, _deep ? 1 << 14 : 512) * Page + jitter;
            }

            if (r < 82)
            {
                return Max - (ulong)_rng.Next(0, 64) * Page - jitter;
            }

            if (r < 90)
            {
                return new[] { 0UL, 1UL, Page - 1, Page, Max, Max - 1, Max - Page, Max - Page + 1, 1UL << 31, Huge }[_rng.Next(10)];
            }

            return (ulong)_rng.NextInt64() * 2 + (ulong)_rng.Next(2);
        }

        private ulong Length()
        {
            int r = _rng.Next(100);
            if (r < 60)
            {
                return (ulong)_rng.Next(1, 9) * Page;
            }

            if (r < 80)
            {
                return (ulong)_rng.Next(1, 10_000);
            }

            if (r < 95)
            {
                return (ulong)_rng.Next(1, 5) * Huge - (ulong)_rng.Next(0, 2) * Page;
            }

            return r < 98 ? Max / 2 - (ulong)_rng.Next(0, 2) : (ulong)_rng.NextInt64(1, long.MaxValue);
        }

        private static ulong LastOf(ulong start, ulong length) => start > Max - (length - 1) ? Max : start + (length - 1);

        private void FixedMap()
        {
            ulong iova = Address();
            ulong length = Length();
            Errno expected = _ref.CheckIova(iova, length);
            Assert.Equal(expected, _sut.CheckIova(iova, length));
            if (expected == Errno.None)
            {
                _fixedOk++;
                Insert(iova, length);
            }
        }

        private Errno AutoMap()
        {
            ulong source = _rng.Next(6) switch
            {
                0 => 0,
                1 => 0x7f00_0000_0000UL + (ulong)_rng.Next(0, 1 << 20) * Page,
                2 => 0x7f00_0000_0000UL + (ulong)_rng.Next(0, 1 << 20) * Page + (ulong)_rng.Next(0, (int)Page),
                3 => 0x7f00_0000_0000UL + (ulong)_rng.Next(0, 64) * Huge,
                4 => (ulong)_rng.Next(1, 1 << 16) << _rng.Next(0, 40),
                _ => Address(),
            };
            ulong length = Length();
            ulong cap = _rng.Next(3) == 0 ? Page : Huge;

            Errno expected = _ref.Allocate(source, length, cap, out ulong expectedIova);
            Errno actual = _sut.AllocateIova(source, length, cap, out ulong iova);
            Assert.True(expected == actual, $"step {_step}: alloc(0x{source:x}, 0x{length:x}, cap 0x{cap:x}) gave {actual}, model {expected}");
            if (expected != Errno.None)
            {
                return expected;
            }

            Assert.True(expectedIova == iova, $"step {_step}: alloc(0x{source:x}, 0x{length:x}, cap 0x{cap:x}) chose 0x{iova:x}, model 0x{expectedIova:x}");

            // The spec's rules, checked directly as well.
            Assert.NotEqual(0UL, iova);
            Assert.True(iova >= Page && iova - 1 + length <= Max - Page, "outside the allocation window");
            Assert.Equal(Errno.None, _ref.CheckIova(iova, length)); // aligned, free of reservations and areas
            ulong last = iova + (length - 1);
            if (_ref.Allowed.Count > 0)
            {
                Assert.Contains(ReferenceIoPageTable.Union(_ref.Allowed), a => a.Start <= iova && last <= a.Last);
            }

            Insert(iova, length);
            return expected;
        }

        private void Insert(ulong iova, ulong length)
        {
            ulong last = iova + (length - 1);
            int value = _nextValue++;
            Assert.True(_ref.TryInsertArea(iova, last, value));
            Assert.True(_sut.Areas.TryInsert(iova, last, value, out Interval<int> c), $"step {_step}: insert conflicted with {c}");
        }

        private void Unmap()
        {
            if (_ref.Areas.Count > 0 && _rng.Next(10) != 0)
            {
                var victim = _ref.Areas[_rng.Next(_ref.Areas.Count)];
                Assert.True(_ref.RemoveArea(victim.Start));
                Assert.True(_sut.Areas.Remove(victim.Start, out Interval<int> removed));
                Assert.Equal((victim.Start, victim.Last, victim.Value), (removed.Start, removed.Last, removed.Value));
            }
            else
            {
                ulong start = Address();
                Assert.Equal(_ref.RemoveArea(start), _sut.Areas.Remove(start));
            }
        }

        private void Reserve()
        {
            ulong start = Address();
            ulong last = _rng.Next(4) == 0 ? start : LastOf(start, Length());
            object? owner = _owners[_rng.Next(_owners.Length)];
            Assert.Equal(_ref.Reserve(start, last, owner), _sut.ReserveIova(start, last, owner));
        }

        private void Unreserve()
        {
            object? owner = _owners[_rng.Next(_owners.Length)];
            Assert.Equal(_ref.RemoveOwner(owner), _sut.RemoveReservedIova(owner));
        }

        private void Allow()
        {
            int n = _rng.Next(_deep ? 2 : 5) == 0 ? 0 : _rng.Next(1, 4);
            var list = new List<(ulong Start, ulong Last)>();
            for (int i = 0; i < n; i++)
            {
                ulong s = Address();
                ulong l = _rng.Next(10) switch
                {
                    0 => s,                                  // start == last: EINVAL
                    1 => s == 0 ? 0 : s - 1,                 // start > last: EINVAL
                    2 when _deep => LastOf(s, (ulong)_rng.Next(1, 1 << 14) * Page),
                    _ => LastOf(s, (ulong)_rng.Next(1, 64) * Page + (ulong)_rng.Next(0, 2)),
                };
                list.Add((s, l));
            }

            Errno expected = _ref.SetAllowed(list);
            Assert.Equal(expected, _sut.SetAllowedIovas(list.Select(x => new IovaRange(x.Start, x.Last)).ToArray()));
        }

        private void Query()
        {
            ulong a = Address();
            int i = _ref.IndexOfAreaContaining(a);
            Assert.Equal(i >= 0, _sut.Areas.TryFind(a, out Interval<int> hit));
            if (i >= 0)
            {
                Assert.Equal(_ref.Areas[i].Value, hit.Value);
            }

            ulong b = LastOf(a, Length());
            int j = _ref.IndexOfFirstAreaIntersecting(a, b);
            Assert.Equal(j >= 0, _sut.Areas.TryFindFirstIntersecting(a, b, out Interval<int> first));
            if (j >= 0)
            {
                Assert.Equal(_ref.Areas[j].Start, first.Start);
            }

            int count = 0;
            foreach (Interval<int> x in _sut.Areas.EnumerateIntersecting(a, b))
            {
                Assert.True(x.Start <= b && a <= x.Last);
                count++;
            }

            Assert.Equal(_ref.Areas.Count(x => x.Start <= b && a <= x.Last), count);
        }

        private void CompareState()
        {
            Assert.Equal(_ref.Areas.Count, _sut.Areas.Count);

            // Deep runs hold ~1,200 areas: walking all of them after every one of 20,000 steps would dominate the
            // suite's time, so they walk the whole tree every 8th step (every step's errno and IOVA is still compared,
            // and the shallow runs walk everything after every step).
            if (_deep && _step % 8 != 0)
            {
                return;
            }

            int k = 0;
            foreach (Interval<int> x in _sut.Areas)
            {
                var e = _ref.Areas[k++];
                if (e.Start != x.Start || e.Last != x.Last || e.Value != x.Value)
                {
                    Assert.Fail($"step {_step}: area {k - 1} is {x}, model [{e.Start:x}, {e.Last:x}] {e.Value}");
                }
            }

            var holes = new List<(ulong, ulong)>();
            foreach (IovaRange r in _sut.EnumerateIovaRanges())
            {
                holes.Add((r.Start, r.Last));
            }

            Assert.Equal(_ref.IovaRanges(), holes);
            Assert.Equal(_ref.Reserved.Count, _sut.Reserved.Count);
            Assert.Equal(_ref.Allowed.Count, _sut.Allowed.Count);
            _sut.Areas.Validate();
            _maxAreas = Math.Max(_maxAreas, _sut.Areas.Count);
            _maxHeight = Math.Max(_maxHeight, _sut.Areas.Height);
        }
    }
}
