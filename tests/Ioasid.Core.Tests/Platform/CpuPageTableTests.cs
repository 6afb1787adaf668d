using Ioasid.Core.Platform;

namespace Ioasid.Core.Tests.Platform;

/// <summary>The lazily built x86-64 CPU page table of a process, its exactness on every page change, and its MMU notifiers.</summary>
public class CpuPageTableTests
{
    private const ulong Page = AddressMath.PageSize;

    // Indices 1 (PML4), 1 (PDPT), 3 (PD), 3 (PT): 0x80_4060_3000 = 1·2^39 + 1·2^30 + 3·2^21 + 3·2^12.
    private const ulong Va = 0x80_4060_3000;

    [Fact]
    public void Entries_match_hand_worked_x86_64_values_when_built_for_a_process()
    {
        var mm = NewMm(out var machine);
        mm.Map(3 * Page, UserProt.ReadWrite, fixedVa: Va);
        mm.Write(Va, [1]);
        mm.Write(Va + (2 * Page), [2]);

        var table = mm.EnsureCpuPageTable();

        var memory = machine.Memory;
        ulong pml4e = memory.ReadU64(new PhysAddr(table.Root.Value + (1 * 8)));
        Assert.Equal(0x67UL, pml4e & 0xFFF); // P | RW | US | A | D, Linux's _PAGE_TABLE
        Assert.Equal(0UL, pml4e >> 52);
        ulong pdpte = memory.ReadU64(new PhysAddr((pml4e & CpuPte.AddressMask) + (1 * 8)));
        Assert.Equal(0x67UL, pdpte & 0xFFF);
        ulong pde = memory.ReadU64(new PhysAddr((pdpte & CpuPte.AddressMask) + (3 * 8)));
        Assert.Equal(0x67UL, pde & 0xFFF);
        ulong pt = pde & CpuPte.AddressMask;
        Assert.True(mm.TryGetFrame(Va, out var frame0));
        Assert.True(mm.TryGetFrame(Va + (2 * Page), out var frame2));
        Assert.Equal(frame0.Value | 0x8000_0000_0000_0067, memory.ReadU64(new PhysAddr(pt + (3 * 8)))); // NX | D | A | US | RW | P
        Assert.Equal(0UL, memory.ReadU64(new PhysAddr(pt + (4 * 8)))); // never touched: not present
        Assert.Equal(frame2.Value | 0x8000_0000_0000_0067, memory.ReadU64(new PhysAddr(pt + (5 * 8))));
        Assert.Equal(4, table.TablePages);

        Assert.Equal(frame0.Value | 0x8000_0000_0000_0067, table.ReadLeaf(Va + 0x123, out int level));
        Assert.Equal(1, level);
        Assert.Equal(0UL, table.ReadLeaf(Va + Page, out level));
        Assert.Equal(1, level);
    }

    [Fact]
    public void Mprotect_rewrites_permission_bits_and_notifies_only_for_present_entries()
    {
        var mm = NewMm(out _);
        mm.Map(3 * Page, UserProt.ReadWrite, fixedVa: Va);
        mm.Write(Va, [1]);
        var notifier = new RecordingNotifier();
        mm.RegisterMmuNotifier(notifier);
        var table = mm.CpuPageTable!;
        Assert.True(mm.TryGetFrame(Va, out var frame));

        mm.Protect(Va, 3 * Page, UserProt.Read);
        Assert.Equal(frame.Value | 0x8000_0000_0000_0025, table.ReadLeaf(Va, out _)); // NX | A | US | P
        Assert.Equal([(Va, Va + Page)], notifier.Invalidations); // the only present entry

        mm.Protect(Va, 3 * Page, UserProt.Read | UserProt.Exec);
        Assert.Equal(frame.Value | 0x25, table.ReadLeaf(Va, out _));

        mm.Protect(Va, 3 * Page, UserProt.None);
        Assert.Equal(0UL, table.ReadLeaf(Va, out _)); // PROT_NONE is not present to the hardware
        Assert.Equal(3, notifier.Invalidations.Count);
    }

    [Fact]
    public void Faulting_pages_in_makes_them_present_without_notifying()
    {
        var mm = NewMm(out _);
        ulong va = mm.Map(16 * Page);
        var notifier = new RecordingNotifier();
        mm.RegisterMmuNotifier(notifier);
        var table = mm.CpuPageTable!;
        Assert.Equal(0UL, table.ReadLeaf(va + (5 * Page), out _));

        mm.Write(va + (5 * Page) + 7, [9, 9]);
        var pfns = new ulong[2];
        Assert.Equal(Errno.None, mm.TryPin(va + (8 * Page), 2, write: true, pfns));

        Assert.True(mm.TryGetFrame(va + (5 * Page), out var written));
        Assert.Equal(written.Value | 0x8000_0000_0000_0067, table.ReadLeaf(va + (5 * Page), out _));
        Assert.Equal(PhysAddr.FromFrame(pfns[1]), CpuPte.Address(table.ReadLeaf(va + (9 * Page), out _)));
        Assert.Equal(0UL, table.ReadLeaf(va + (6 * Page), out _));
        Assert.Empty(notifier.Invalidations);
        mm.Unpin(pfns);
    }

    [Fact]
    public void Munmap_clears_entries_notifies_the_range_and_frees_emptied_tables()
    {
        var mm = NewMm(out var machine);
        mm.Map(3 * Page, UserProt.ReadWrite, fixedVa: Va);
        mm.Write(Va, new byte[3 * Page]);
        var notifier = new RecordingNotifier();
        mm.RegisterMmuNotifier(notifier);
        var table = mm.CpuPageTable!;
        Assert.Equal(4, table.TablePages);
        long frames = machine.Memory.Frames.AllocatedFrames;

        mm.Unmap(Va + Page, Page);
        Assert.Equal([(Va + Page, Va + (2 * Page))], notifier.Invalidations);
        Assert.Equal(0UL, table.ReadLeaf(Va + Page, out _));
        Assert.NotEqual(0UL, table.ReadLeaf(Va + (2 * Page), out _));

        mm.Unmap(Va, 3 * Page);
        Assert.Equal((Va, Va + (3 * Page)), notifier.Invalidations[^1]);
        Assert.Equal(1, table.TablePages); // PT, PD and PDPT went with their last entry
        Assert.Equal(frames - 3 - 3, machine.Memory.Frames.AllocatedFrames); // 3 data frames, 3 table pages
        Assert.All(machine.Memory.ReadTableEntries(table.Root).ToArray(), e => Assert.Equal(0UL, e));
    }

    [Fact]
    public void A_huge_page_is_one_ps_entry_and_splits_when_part_of_it_is_unmapped()
    {
        var mm = NewMm(out _);
        ulong va = mm.Map(4UL << 20, hugePages: true);
        mm.Write(va, [1]); // faults the first 2 MiB in as one contiguous run
        var notifier = new RecordingNotifier();
        mm.RegisterMmuNotifier(notifier);
        var table = mm.CpuPageTable!;
        Assert.True(mm.TryGetFrame(va, out var frame));
        Assert.Equal(0UL, frame.Value & ((2UL << 20) - 1));
        Assert.Equal(frame.Value | 0x8000_0000_0000_00E7, table.ReadLeaf(va + 0x1234, out int level)); // PS | D | A | US | RW | P, NX
        Assert.Equal(2, level);
        Assert.Equal(0UL, table.ReadLeaf(va + (2UL << 20), out _)); // the second 2 MiB is untouched

        mm.Unmap(va + (5 * Page), Page);
        Assert.Equal(0UL, table.ReadLeaf(va + (5 * Page), out _));
        Assert.Equal(frame.Value + (6 * Page) | 0x8000_0000_0000_0067, table.ReadLeaf(va + (6 * Page), out level));
        Assert.Equal(1, level);
        Assert.Single(notifier.Invalidations);
        Assert.Equal((va + (5 * Page), va + (6 * Page)), notifier.Invalidations[0]); // the split itself changes no translation
    }

    [Fact]
    public void File_pages_follow_the_file_and_a_private_copy_is_read_only_until_written()
    {
        var mm = NewMm(out var machine);
        var file = machine.CreateMemFd("f", 4 * Page);
        file.Write(0, new byte[4 * Page]);
        ulong shared = mm.MapFile(file, 0, 4 * Page);
        ulong priv = mm.MapFile(file, 0, 4 * Page, shared: false);
        var notifier = new RecordingNotifier();
        mm.RegisterMmuNotifier(notifier);
        var table = mm.CpuPageTable!;

        ulong sharedLeaf = table.ReadLeaf(shared + Page, out _);
        Assert.Equal(CpuPte.Present | CpuPte.Writable | CpuPte.Dirty, sharedLeaf & (CpuPte.Present | CpuPte.Writable | CpuPte.Dirty));
        ulong privLeaf = table.ReadLeaf(priv + Page, out _);
        Assert.Equal(CpuPte.Address(sharedLeaf), CpuPte.Address(privLeaf)); // the file's page, not yet copied
        Assert.Equal(0UL, privLeaf & CpuPte.Writable);

        mm.Write(priv + Page, [5]);
        ulong copied = table.ReadLeaf(priv + Page, out _);
        Assert.NotEqual(CpuPte.Address(sharedLeaf), CpuPte.Address(copied));
        Assert.Equal(CpuPte.Writable, copied & CpuPte.Writable);
        Assert.Equal((priv + Page, priv + (2 * Page)), notifier.Invalidations[^1]); // the read-only file page was replaced

        file.Truncate(2 * Page);
        Assert.Equal(0UL, table.ReadLeaf(shared + (3 * Page), out _));
        Assert.Equal(0UL, table.ReadLeaf(priv + (3 * Page), out _));
        Assert.NotEqual(0UL, table.ReadLeaf(shared + Page, out _));
        Assert.Contains(notifier.Invalidations, r => r.Start <= shared + (2 * Page) && r.End >= shared + (4 * Page));
    }

    [Fact]
    public void Exit_releases_the_notifiers_before_freeing_every_table_page()
    {
        var machine = new Machine(256UL << 20);
        long before = machine.Memory.Frames.AllocatedFrames;
        var process = machine.CreateProcess();
        var mm = process.Mm;
        ulong va = mm.Map(8 * Page);
        mm.Write(va, new byte[8 * Page]);
        var notifier = new RecordingNotifier { TableAtRelease = () => mm.CpuPageTable };
        mm.RegisterMmuNotifier(notifier);

        process.Exit();

        Assert.Equal(1, notifier.Releases);
        Assert.NotNull(notifier.SeenTable); // the table still existed while the notifier was released
        Assert.Null(mm.CpuPageTable);
        Assert.Equal(0, mm.MmuNotifierCount);
        Assert.Equal(before, machine.Memory.Frames.AllocatedFrames);
    }

    [Fact]
    public void Processes_never_bound_allocate_no_page_table_frames()
    {
        var machine = new Machine(256UL << 20);
        var mm = machine.CreateProcess().Mm;
        long before = machine.Memory.Frames.AllocatedFrames;
        ulong va = mm.Map(64 * Page);
        mm.Write(va, new byte[16 * Page]);
        var pfns = new ulong[64];
        Assert.Equal(Errno.None, mm.TryPin(va, 64, write: true, pfns));
        mm.Protect(va, 32 * Page, UserProt.Read);
        mm.Unmap(va + (48 * Page), 16 * Page);

        Assert.Null(mm.CpuPageTable);
        Assert.Equal(before + 64, machine.Memory.Frames.AllocatedFrames); // exactly the data frames
        mm.Unpin(pfns);
    }

    [Fact]
    public void The_table_built_late_equals_the_table_kept_from_the_start()
    {
        // The same history on two processes, one bound before it and one after: both tables must translate alike.
        var machine = new Machine(512UL << 20);
        var early = machine.CreateProcess().Mm;
        var late = machine.CreateProcess().Mm;
        early.EnsureCpuPageTable();
        foreach (var mm in new[] { early, late })
        {
            mm.Map(64 * Page, UserProt.ReadWrite, fixedVa: Va);
            mm.Write(Va + (3 * Page), new byte[10 * Page]);
            mm.Unmap(Va + (5 * Page), 2 * Page);
            mm.Protect(Va + (8 * Page), 4 * Page, UserProt.Read);
            mm.Map(2 * Page, UserProt.ReadWrite | UserProt.Exec, fixedVa: Va + (20 * Page));
            mm.Write(Va + (21 * Page), [1]);
        }

        late.EnsureCpuPageTable();
        for (ulong va = Va; va < Va + (64 * Page); va += Page)
        {
            ulong a = early.CpuPageTable!.ReadLeaf(va, out int levelA);
            ulong b = late.CpuPageTable!.ReadLeaf(va, out int levelB);
            Assert.Equal(a & ~CpuPte.AddressMask, b & ~CpuPte.AddressMask);
            Assert.Equal(levelA, levelB);
            Assert.Equal(early.TryGetFrame(va, out var fa), CpuPte.IsPresent(a));
            Assert.Equal(late.TryGetFrame(va, out var fb), CpuPte.IsPresent(b));
            if (CpuPte.IsPresent(a))
            {
                Assert.Equal(fa, CpuPte.Address(a));
                Assert.Equal(fb, CpuPte.Address(b));
            }
        }
    }

    [Fact]
    public void A_huge_sparse_mapping_gets_tables_only_for_its_touched_pages()
    {
        var mm = NewMm(out _);
        ulong va = mm.Map(64UL << 30); // 64 GiB of address space, 32768 regions, none backed
        mm.Write(va + (40UL << 30) + 5, [1]);

        var table = mm.EnsureCpuPageTable();

        Assert.Equal(4, table.TablePages); // PML4 and one PDPT, PD and PT
        Assert.NotEqual(0UL, table.ReadLeaf(va + (40UL << 30), out _));
        mm.Unmap(va, 64UL << 30);
        Assert.Equal(1, table.TablePages);
    }

    private static UserAddressSpace NewMm(out Machine machine)
    {
        machine = new Machine(256UL << 20);
        return machine.CreateProcess().Mm;
    }

    private sealed class RecordingNotifier : IMmuNotifier
    {
        public List<(ulong Start, ulong End)> Invalidations { get; } = new();

        public int Releases { get; private set; }

        public Func<CpuPageTable?>? TableAtRelease { get; init; }

        public CpuPageTable? SeenTable { get; private set; }

        public void InvalidateRange(UserAddressSpace mm, ulong start, ulong end) => Invalidations.Add((start, end));

        public void Release(UserAddressSpace mm)
        {
            Releases++;
            SeenTable = TableAtRelease?.Invoke();
        }
    }
}
