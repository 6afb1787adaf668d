using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

/// <summary>
/// Random address-space histories on a process whose CPU page table exists: after every step the table must match the
/// address space, and a secondary TLB kept coherent only by the MMU notifier must never hold a translation the table
/// no longer has.
/// </summary>
public class CpuPageTablePropertyTests
{
    private const ulong Page = AddressMath.PageSize;
    private const ulong AnonWindow = 0x10_0000_0000; // 64 pages of anonymous mappings
    private const ulong FileWindow = 0x20_0000_0000; // 32 pages of memfd mappings
    private const ulong HugeWindow = 0x30_0000_0000; // 8 MiB where huge mappings come and go
    private const int AnonPages = 64;
    private const int FilePages = 32;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void The_table_stays_exact_and_the_notifier_keeps_a_device_cache_coherent_when_pages_change_at_random(int seed)
    {
        var random = new Random(seed);
        var machine = new Machine(512UL << 20);
        var mm = machine.CreateProcess().Mm;
        var file = machine.CreateMemFd("f", 16 * Page);
        var device = new DeviceCache();
        mm.RegisterMmuNotifier(device);
        var table = mm.CpuPageTable!;
        var pins = new List<ulong[]>();

        for (int step = 0; step < 300; step++)
        {
            int op = random.Next(10);
            try
            {
                switch (op)
                {
                    case 0:
                        mm.Map((ulong)random.Next(1, 9) * Page, RandomProt(random), fixedVa: AnonWindow + ((ulong)random.Next(AnonPages - 8) * Page));
                        break;
                    case 1:
                        mm.Unmap(AnonWindow + ((ulong)random.Next(AnonPages) * Page), (ulong)random.Next(1, 6) * Page);
                        break;
                    case 2:
                        mm.Protect(AnonWindow + ((ulong)random.Next(AnonPages) * Page), (ulong)random.Next(1, 6) * Page, RandomProt(random));
                        break;
                    case 3:
                        mm.TryWrite(AnonWindow + ((ulong)random.Next(AnonPages) * Page) + (ulong)random.Next(100), new byte[random.Next(1, 9000)]);
                        break;
                    case 4:
                        var pfns = new ulong[random.Next(1, 4)];
                        if (mm.TryPin(AnonWindow + ((ulong)random.Next(AnonPages) * Page), (ulong)pfns.Length, random.Next(2) == 0, pfns) == Errno.None)
                        {
                            pins.Add(pfns);
                        }

                        break;
                    case 5:
                        mm.MapFile(file, (ulong)random.Next(8) * Page, (ulong)random.Next(1, 9) * Page, RandomProt(random), shared: random.Next(2) == 0,
                            fixedVa: FileWindow + ((ulong)random.Next(FilePages - 8) * Page));
                        break;
                    case 6:
                        mm.TryWrite(FileWindow + ((ulong)random.Next(FilePages) * Page), new byte[random.Next(1, 5000)]);
                        if (random.Next(4) == 0)
                        {
                            file.Truncate((ulong)random.Next(4, 17) * Page);
                        }

                        break;
                    case 7:
                        ulong huge = HugeWindow + ((ulong)random.Next(2) * (2UL << 20));
                        if (random.Next(2) == 0)
                        {
                            mm.Map(4UL << 20, UserProt.ReadWrite, fixedVa: HugeWindow, hugePages: true);
                        }

                        mm.TryWrite(huge + ((ulong)random.Next(512) * Page), [1]);
                        if (random.Next(3) == 0)
                        {
                            mm.Unmap(huge + ((ulong)random.Next(512) * Page), Page);
                        }

                        break;
                    default:
                        // The device walks a few pages and caches what it finds.
                        for (int i = 0; i < 8; i++)
                        {
                            ulong va = random.Next(3) switch
                            {
                                0 => AnonWindow + ((ulong)random.Next(AnonPages) * Page),
                                1 => FileWindow + ((ulong)random.Next(FilePages) * Page),
                                _ => HugeWindow + ((ulong)random.Next(1024) * Page),
                            };
                            device.Access(table, va);
                        }

                        break;
                }
            }
            catch (IoasidException)
            {
                // mprotect of a hole and the like: refused, nothing changed
            }

            if (random.Next(8) == 0 && pins.Count > 0)
            {
                mm.Unpin(pins[0]);
                pins.RemoveAt(0);
            }

            device.AssertCoherent(table, step);
            AssertMatches(mm, table, AnonWindow, AnonPages, exact: true, step);
            AssertMatches(mm, table, FileWindow, FilePages, exact: false, step);
            AssertMatches(mm, table, HugeWindow, 1024, exact: true, step);
        }

        foreach (var pfns in pins)
        {
            mm.Unpin(pfns);
        }
    }

    private static UserProt RandomProt(Random random) =>
        random.Next(4) switch { 0 => UserProt.Read, 1 => UserProt.ReadWrite | UserProt.Exec, _ => UserProt.ReadWrite };

    // Anonymous pages: present exactly when the page has a frame, at that frame. File pages: a present entry is the
    // current frame (one given its frame through another mapping may not be present yet).
    private static void AssertMatches(UserAddressSpace mm, CpuPageTable table, ulong window, int pages, bool exact, int step)
    {
        for (ulong va = window; va < window + ((ulong)pages * Page); va += Page)
        {
            ulong leaf = table.ReadLeaf(va, out int level);
            bool hasFrame = mm.TryGetFrame(va, out var frame);
            if (CpuPte.IsPresent(leaf))
            {
                ulong offset = level == 2 ? va & ((2UL << 20) - 1) : 0;
                Assert.True(hasFrame, $"step {step}: 0x{va:x} is present in the table but has no frame");
                Assert.Equal(frame.Value, CpuPte.Address(leaf).Value + offset);
            }
            else if (exact)
            {
                Assert.False(hasFrame, $"step {step}: 0x{va:x} has frame {frame} but is not present in the table");
            }
        }
    }

    /// <summary>A secondary TLB: translations read from the table, dropped only when the notifier says so.</summary>
    private sealed class DeviceCache : IMmuNotifier
    {
        private const ulong Permissions = CpuPte.Present | CpuPte.Writable | CpuPte.User | CpuPte.ExecuteDisable;

        private readonly Dictionary<ulong, (ulong Output, ulong Permissions)> _cached = new();

        public void Access(CpuPageTable table, ulong va)
        {
            if (Translate(table, va) is { } translation)
            {
                _cached[va] = translation;
            }
        }

        // A cached translation is stale when the table now gives another frame or other permissions; a huge page split
        // into 4 KiB entries with the same frames is not.
        public void AssertCoherent(CpuPageTable table, int step)
        {
            foreach (var (va, translation) in _cached)
            {
                Assert.True(translation == Translate(table, va), $"step {step}: the device still caches 0x{translation.Output:x} ({translation.Permissions:x}) for 0x{va:x}, which the table no longer gives, and nothing invalidated it");
            }
        }

        private static (ulong Output, ulong Permissions)? Translate(CpuPageTable table, ulong va)
        {
            ulong leaf = table.ReadLeaf(va, out int level);
            if (!CpuPte.IsPresent(leaf))
            {
                return null;
            }

            ulong offset = level == 2 ? va & ((2UL << 20) - 1) : 0;
            return (CpuPte.Address(leaf).Value + offset, leaf & Permissions);
        }

        public void InvalidateRange(UserAddressSpace mm, ulong start, ulong end)
        {
            foreach (var va in _cached.Keys.ToList())
            {
                if (va >= start && va < end)
                {
                    _cached.Remove(va);
                }
            }
        }

        public void Release(UserAddressSpace mm) => _cached.Clear();
    }
}
