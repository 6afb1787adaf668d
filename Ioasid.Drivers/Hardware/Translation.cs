using System.Runtime.CompilerServices;

namespace Ioasid.Drivers.Hardware;

/// <summary>
/// One leaf translation, as a walk finds it and an IOTLB caches it: the page of input space
/// [<see cref="InputBase"/>, <see cref="InputBase"/> + <see cref="PageSize"/>) maps to the page at
/// <see cref="OutputBase"/> with <see cref="Permissions"/> (the AND of every level's permissions).
/// </summary>
/// <param name="InputBase">The first IOVA of the page, aligned to its size.</param>
/// <param name="OutputBase">The first physical address of the page, aligned to its size.</param>
/// <param name="PageShift">log2 of the page size (12 for 4 KiB, 21 for 2 MiB, 30 for 1 GiB, …).</param>
/// <param name="Permissions">What the translation allows.</param>
public readonly record struct Translation(Iova InputBase, PhysAddr OutputBase, int PageShift, DmaAccess Permissions)
{
    /// <summary>The page size in bytes.</summary>
    public ulong PageSize => 1UL << PageShift;

    /// <summary>Whether <paramref name="iova"/> lies in the page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(Iova iova) => (iova.Value >> PageShift) == (InputBase.Value >> PageShift);

    /// <summary>The physical address <paramref name="iova"/> (inside the page) translates to.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PhysAddr OutputFor(Iova iova) => new(OutputBase.Value | (iova.Value & ((1UL << PageShift) - 1)));

    /// <summary>The bytes from <paramref name="iova"/> (inside the page) to the end of the page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong RemainingFrom(Iova iova) => PageSize - (iova.Value & (PageSize - 1));

    /// <summary>Whether every access in <paramref name="access"/> is allowed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Allows(DmaAccess access) => (access & ~Permissions) == 0;

    /// <inheritdoc />
    public override string ToString() => $"{InputBase} -> {OutputBase} (2^{PageShift}, {Permissions})";

    // The 4 KiB read/write page of an untranslated (pass-through or bypass) address, for the caches and checkers that
    // hold translations of such requests too.
    internal static Translation IdentityPage(ulong address)
    {
        ulong page = address & ~0xFFFUL;
        return new Translation(new Iova(page), new PhysAddr(page), 12, DmaAccess.ReadWrite);
    }
}
