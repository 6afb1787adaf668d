namespace Ioasid.Cli;

/// <summary>The built-in scenario of <c>ioasid demo</c>: a walk through the IOAS uAPI, errors included.</summary>
internal static class DemoScript
{
    public const string Text = """
        # A process with 4 MiB of anonymous memory and a 64 KiB memfd of "guest RAM".
        mem map 4M --huge --at 0x7f0000000000
        mem write 0x7f0000000000 "hello, device"
        memfd create guest-ram 64K
        # Two I/O address spaces in one iommufd context; ids start at 1.
        ioas alloc
        ioas alloc
        # Automatic IOVA: the lowest hole that keeps the source's 2 MiB alignment, never IOVA 0.
        ioas map 1 0x7f0000000000 2M
        # FIXED_IOVA, read-only, and a memfd mapping.
        ioas map 1 0x7f0000200000 64K --iova 0x10000000 --ro
        ioas map-file 1 3 0 64K
        # Overlap of a fixed mapping: EEXIST. Unmap of half a mapping: ENOENT. Nothing changes.
        ioas map 1 0x7f0000000000 4K --iova 0x10008000
        ioas unmap 1 0x10000000 32K
        ioas areas 1
        # COPY shares the memory behind a range; asking WRITEABLE of read-only memory is EPERM.
        ioas copy 2 1 0x10000000 64K --ro
        ioas copy 2 1 0x10000000 64K
        ioas areas 2
        # Allowed ranges steer automatic allocation; IOVA_RANGES still reports the whole space.
        ioas allow 2 0x40000000-0x4fffffff
        ioas map 2 0x7f0000000000 1M
        ioas ranges 2
        # Large pages off: everything must be 4 KiB aligned from now on.
        ioas option 2 huge-pages off
        ioas map 2 0x7f0000000000 2K
        # Destroy, id reuse, and unmap-all.
        objects
        destroy 1
        ioas alloc
        ioas unmap 2 all
        ioas unmap 2 all
        # Devices behind the mock IOMMU. The device, not its group, is what binds and attaches.
        device add nic0 0000:01:00.0
        device add nic1 0000:02:00.0
        device bind nic0
        device bind nic1
        # Both attach to IOAS 1: the second reuses the first one's automatic HWPT (one shared paging domain).
        device attach 3 1
        device attach 4 1
        # A mapping made now is mirrored into that domain; both devices read the bytes the process wrote.
        ioas map 1 0x7f0000000000 64K
        dma read nic0 0x1000000 13
        dma write nic1 0x1000007 DEVICE
        mem read 0x7f0000000000 13
        # Unmap invalidates the IOTLB: the device's next read faults.
        ioas unmap 1 0x1000000 64K
        dma read nic0 0x1000000 4
        # A mediated device never reaches the IOMMU itself: its DMA is its parent's RID plus a PASID.
        device add gpu 0000:03:00.0 --pasid-bits 8
        device bind gpu
        ioas alloc
        # A PASID attaches to a HWPT allocated for PASID use, never to an IOAS directly.
        hwpt alloc 6 7 --pasid
        device attach 6 8 --pasid 1
        ioas map 7 0x7f0000000000 4K --ro
        dma read gpu 0x1000000 13 --pasid 1
        dma read gpu 0x1000000 4
        dma write gpu 0x1000000 X --pasid 1
        faults
        """;
}
