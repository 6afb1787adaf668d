using Ioasid.Core.Iommufd;

namespace Ioasid.Core.Tests.Iommufd;

/// <summary>
/// Random map / unmap / copy / reserve sequences through the public IOAS API, checked after every step against a
/// naive model (sorted lists, linear scans) that spells out the kernel's rules: areas, IOVA ranges (holes of the
/// reserved ranges), the IOVA an automatic map picks, and the errno of every failure.
/// </summary>
public sealed class IoasPropertyTests
{
    private const ulong Page = 4096;

    // Reservations belong to an owner object (a domain, a device) and are released by reference.
    private static readonly string[] Owners = ["owner0", "owner1", "owner2"];

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Ioas_agrees_with_a_reference_model(int seed, bool withAllowedRange)
    {
        using var f = new CoreFixture();
        var ioas = f.Context.AllocIoas();
        var model = new ReferenceIoas();
        var random = new Random(seed);
        if (withAllowedRange)
        {
            var allowed = new IovaRange(new Iova(0x10_0000), new Iova(0x1ff_ffff));
            ioas.AllowIovas([allowed]);
            model.Allowed.Add((allowed.Start.Value, allowed.Last.Value));
        }

        for (var step = 0; step < 1500; step++)
        {
            var op = random.Next(100);
            if (op < 35)
            {
                // automatic map: length 1..64 pages, source with a random alignment
                var length = (ulong)random.Next(1, 65) * Page;
                var source = 0x7f00_0000_0000UL + ((ulong)random.Next(0, 1 << 16) << random.Next(12, 22));
                var expected = model.MapAuto(source, length, out var expectedIova);
                var actual = Outcome(() => ioas.Map(source, length, IoasMapFlags.ReadWrite).Value, out var iova);
                Assert.Equal(expected, actual);
                if (expected == Errno.None)
                {
                    Assert.Equal(expectedIova, iova);
                }
            }
            else if (op < 60)
            {
                var iova = (ulong)random.Next(0, 0x3000) * Page;
                var length = (ulong)random.Next(1, 33) * Page;
                var expected = model.MapFixed(iova, length, 0x7e00_0000_0000);
                var actual = Outcome(() => ioas.Map(0x7e00_0000_0000, length, IoasMapFlags.FixedIova | IoasMapFlags.ReadWrite, new Iova(iova)).Value, out _);
                Assert.Equal(expected, actual);
            }
            else if (op < 88)
            {
                var iova = (ulong)random.Next(0, 0x3000) * Page;
                var length = (ulong)random.Next(1, 257) * Page;
                var expected = model.Unmap(iova, length, out var expectedBytes);
                var actual = Outcome(() => ioas.Unmap(new Iova(iova), length), out var bytes);
                Assert.Equal(expected, actual);
                Assert.Equal(expectedBytes, bytes);
            }
            else if (op < 94)
            {
                // copy a random range onto a fixed destination
                var src = (ulong)random.Next(0, 0x3000) * Page;
                var length = (ulong)random.Next(1, 9) * Page;
                var dst = (ulong)random.Next(0, 0x3000) * Page;
                var expected = model.Copy(src, length, dst);
                var actual = Outcome(() => ioas.CopyFrom(ioas, new Iova(src), length, IoasMapFlags.FixedIova | IoasMapFlags.Readable, new Iova(dst)).Value, out _);
                Assert.Equal(expected, actual);
            }
            else if (op < 98)
            {
                var start = (ulong)random.Next(0, 0x3000) * Page;
                var last = start + ((ulong)random.Next(1, 17) * Page) - 1;
                var owner = Owners[random.Next(3)];
                var expected = model.Reserve(start, last, owner);
                var actual = Outcome(() => { ioas.Reserve(start, last, owner); return 0UL; }, out _);
                Assert.Equal(expected, actual);
            }
            else
            {
                var owner = Owners[random.Next(3)];
                Assert.Equal(model.Unreserve(owner), ioas.Unreserve(owner));
            }

            Assert.Equal(model.Areas.Select(a => (a.Start, a.Last, a.Source)),
                ioas.Areas.Select(a => (a.Range.Start.Value, a.Range.Last.Value, a.SourceAddress)));
            if (step % 16 == 0)
            {
                Assert.Equal(model.IovaRanges(), ioas.GetIovaRanges().Select(r => (r.Start.Value, r.Last.Value)));
            }
        }
    }

    private static Errno Outcome(Func<ulong> action, out ulong result)
    {
        try
        {
            result = action();
            return Errno.None;
        }
        catch (IoasidException error)
        {
            result = 0;
            return error.Errno;
        }
    }

    /// <summary>The kernel's IOAS rules written as plainly as possible.</summary>
    private sealed class ReferenceIoas
    {
        public List<(ulong Start, ulong Last, ulong Source)> Areas { get; } = new();

        public List<(ulong Start, ulong Last, string Owner)> Reserved { get; } = new();

        public List<(ulong Start, ulong Last)> Allowed { get; } = new();

        public Errno MapFixed(ulong iova, ulong length, ulong source)
        {
            var last = iova + length - 1;
            if (Reserved.Any(r => r.Start <= last && iova <= r.Last))
            {
                return Errno.EINVAL;
            }

            if (Areas.Any(a => a.Start <= last && iova <= a.Last))
            {
                return Errno.EEXIST;
            }

            Insert(iova, last, source);
            return Errno.None;
        }

        public Errno MapAuto(ulong source, ulong length, out ulong iova)
        {
            iova = 0;
            var alignment = System.Numerics.BitOperations.RoundUpToPowerOf2(length);
            alignment = Math.Min(alignment, source & (~source + 1));
            alignment = Math.Min(alignment, 2UL << 20);
            var windows = Allowed.Count > 0 ? Allowed : [(Page, ulong.MaxValue - Page)];
            foreach (var (windowStart, windowLast) in windows.OrderBy(w => w.Item1))
            {
                // Candidate starts: the window start and the end of every area or reservation, in order.
                var starts = new List<ulong> { windowStart };
                starts.AddRange(Areas.Select(a => a.Last + 1));
                starts.AddRange(Reserved.Select(r => r.Last + 1));
                foreach (var holeStart in starts.Where(s => s >= windowStart && s <= windowLast).Distinct().Order())
                {
                    if (IsBusy(holeStart))
                    {
                        continue;
                    }

                    var holeLast = Math.Min(windowLast, NextBusy(holeStart) - 1);
                    var candidate = ((holeStart + alignment - 1) & ~(alignment - 1)) | (source % Page);
                    if (candidate <= holeLast && holeLast - candidate >= length - 1)
                    {
                        iova = candidate;
                        Insert(candidate, candidate + length - 1, source);
                        return Errno.None;
                    }
                }
            }

            return Errno.ENOSPC;
        }

        public Errno Unmap(ulong iova, ulong length, out ulong bytes)
        {
            bytes = 0;
            var last = iova + length - 1;
            var hit = Areas.Where(a => a.Start <= last && iova <= a.Last).ToList();
            if (hit.Count == 0 || hit.Any(a => a.Start < iova || a.Last > last))
            {
                return Errno.ENOENT;
            }

            foreach (var area in hit)
            {
                Areas.Remove(area);
                bytes += area.Last - area.Start + 1;
            }

            return Errno.None;
        }

        public Errno Copy(ulong src, ulong length, ulong dst)
        {
            // the source must be covered without a gap; the destination follows the fixed-map rules
            var pieces = new List<(ulong Length, ulong Source)>();
            var at = src;
            var last = src + length - 1;
            while (at <= last)
            {
                var area = Areas.FirstOrDefault(a => a.Start <= at && at <= a.Last);
                if (area == default)
                {
                    return Errno.ENOENT;
                }

                var pieceLast = Math.Min(area.Last, last);
                pieces.Add((pieceLast - at + 1, area.Source + (at - area.Start)));
                at = pieceLast + 1;
                if (pieceLast == ulong.MaxValue)
                {
                    break;
                }
            }

            var dstLast = dst + length - 1;
            if (Reserved.Any(r => r.Start <= dstLast && dst <= r.Last))
            {
                return Errno.EINVAL;
            }

            if (Areas.Any(a => a.Start <= dstLast && dst <= a.Last))
            {
                return Errno.EEXIST;
            }

            foreach (var (pieceLength, source) in pieces)
            {
                Insert(dst, dst + pieceLength - 1, source);
                dst += pieceLength;
            }

            return Errno.None;
        }

        public Errno Reserve(ulong start, ulong last, string owner)
        {
            if (Areas.Any(a => a.Start <= last && start <= a.Last) || Allowed.Any(a => a.Start <= last && start <= a.Last))
            {
                return Errno.EADDRINUSE;
            }

            Reserved.Add((start, last, owner));
            return Errno.None;
        }

        public int Unreserve(string owner) => Reserved.RemoveAll(r => r.Owner == owner);

        public IEnumerable<(ulong, ulong)> IovaRanges()
        {
            var holes = new List<(ulong, ulong)>();
            ulong next = 0;
            var done = false;
            foreach (var (start, last, _) in Reserved.OrderBy(r => r.Start))
            {
                if (start > next)
                {
                    holes.Add((next, start - 1));
                }

                if (last == ulong.MaxValue)
                {
                    done = true;
                    break;
                }

                next = Math.Max(next, last + 1);
            }

            if (!done)
            {
                holes.Add((next, ulong.MaxValue));
            }

            return holes;
        }

        private bool IsBusy(ulong address) =>
            Areas.Any(a => a.Start <= address && address <= a.Last) || Reserved.Any(r => r.Start <= address && address <= r.Last);

        private ulong NextBusy(ulong address)
        {
            var next = ulong.MaxValue;
            foreach (var start in Areas.Select(a => a.Start).Concat(Reserved.Select(r => r.Start)))
            {
                if (start > address && start < next)
                {
                    next = start;
                }
            }

            return next == ulong.MaxValue ? ulong.MaxValue : next;
        }

        private void Insert(ulong start, ulong last, ulong source)
        {
            Areas.Add((start, last, source));
            Areas.Sort();
        }
    }
}
