using System;
using Ioasid.Core.Platform;

namespace Ioasid.Drivers.Hardware;

/// <summary>A hardware model a device's DMA goes through: it translates one page of a request at a time.</summary>
public interface IDmaTranslator
{
    /// <summary>The physical memory DMA reaches.</summary>
    PhysicalMemory Memory { get; }

    /// <summary>Translates the page holding <paramref name="request"/>'s first byte; faults are recorded by the model.</summary>
    TranslationResult Translate(in DmaRequest request);
}

/// <summary>
/// Moves a device's DMA through any hardware model: a page at a time, each page its own translation and transaction,
/// so a fault stops the DMA after the pages before it were transferred — as a real DMA engine behind an IOMMU sees it.
/// </summary>
public static class DmaEngine
{
    /// <summary>
    /// Performs <paramref name="request"/> through <paramref name="translator"/>: a read fills <paramref name="buffer"/>
    /// from memory, a write copies it to memory.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer length differs from the request's, or the access is not exactly read or write.</exception>
    public static DmaResult Transfer<TTranslator>(TTranslator translator, in DmaRequest request, Span<byte> buffer)
        where TTranslator : IDmaTranslator
    {
        ArgumentNullException.ThrowIfNull(translator);
        if ((ulong)buffer.Length != request.Length)
        {
            throw new ArgumentException($"The buffer holds {buffer.Length} bytes; the request is for {request.Length}.", nameof(buffer));
        }

        if (request.Access != DmaAccess.Read && request.Access != DmaAccess.Write)
        {
            throw new ArgumentException("A DMA transfer reads or writes, not both.", nameof(request));
        }

        var memory = translator.Memory;
        ulong done = 0;
        DmaRequest page = request;
        while (done < request.Length)
        {
            page = page with { Iova = new Iova(request.Iova.Value + done), Length = request.Length - done };
            TranslationResult result = translator.Translate(page);
            if (!result.IsSuccess)
            {
                return DmaResult.Faulted(done, page.Iova, result.Fault, result.VendorCode);
            }

            int chunk = (int)Math.Min(result.Length, request.Length - done);
            Span<byte> data = buffer.Slice((int)done, chunk);
            if (request.Access == DmaAccess.Read)
            {
                memory.Read(result.Address, data);
            }
            else
            {
                memory.Write(result.Address, data);
            }

            done += (ulong)chunk;
        }

        return DmaResult.Completed(done);
    }
}
