using System;
using System.Collections.Generic;
using Ioasid.Core.Iommu;
using Ioasid.Core.Platform;
using Ioasid.Drivers.Hardware.Vtd;

namespace Ioasid.Drivers.Vtd;

/// <summary>
/// The driver's per-device data (the kernel's <c>device_domain_info</c>): the unit, and in scalable mode the device's
/// own PASID directory and lazily allocated PASID-table pages, created at probe and referenced from its context entry.
/// Domains are installed into this table; they never own it (drivers.md §4.3.3).
/// </summary>
public sealed class VtdDeviceData
{
    /// <summary>RID_PASID: the PASID whose entry translates requests without PASID (Linux: 0).</summary>
    public const uint RidPasid = 0;

    private readonly PhysicalMemory _memory;
    private readonly PhysAddr[] _pasidTables;
    private readonly Dictionary<uint, IommuDomain> _domains = new();

    internal VtdDeviceData(VtdUnit unit, IommuDevice device, PhysicalMemory memory)
    {
        Unit = unit;
        Device = device;
        _memory = memory;
        AtsSupported = device.Pci.Ats && VtdCapRegister.Bit(unit.Ecap, VtdEcapRegister.DeviceTlbBit);
        if (!unit.ScalableMode)
        {
            _pasidTables = [];
            return;
        }

        // Directory entries: one per 64 PASIDs of the device (at least the 128 PDTS can express).
        uint pasids = Math.Max(device.MaxPasids, 1);
        DirectoryEntries = Math.Max(128u, (uint)System.Numerics.BitOperations.RoundUpToPowerOf2((pasids + 63) / 64));
        ulong pages = Math.Max(1UL, (DirectoryEntries * PasidDirEntry.Size) / 4096);
        if (!memory.Frames.TryAllocateContiguous(pages, 4096, out PhysAddr directory))
        {
            throw new IoasidException(Errno.ENOMEM, $"no memory for the PASID directory of {device}");
        }

        for (ulong i = 0; i < pages; i++)
        {
            memory.TableEntries(new PhysAddr(directory.Value + (i * 4096))).Clear();
        }

        PasidDirectory = directory;
        DirectoryPages = pages;
        _pasidTables = new PhysAddr[DirectoryEntries];
    }

    /// <summary>The unit that translates the device.</summary>
    public VtdUnit Unit { get; }

    /// <summary>
    /// Whether the device has the ATS capability and the unit supports device TLBs (ECAP.DT): the kernel's
    /// <c>info-&gt;ats_supported</c>. Scalable mode then sets DTE in the context entry; legacy mode uses TT = 01b.
    /// </summary>
    public bool AtsSupported { get; }

    /// <summary>
    /// Whether the driver enabled ATS on the device (<c>info-&gt;ats_enabled</c>): every IOTLB invalidation of a domain
    /// installed for it is followed by a device-TLB invalidation.
    /// </summary>
    public bool AtsEnabled { get; private set; }

    /// <summary>The device.</summary>
    public IommuDevice Device { get; }

    /// <summary>The PASID directory (scalable mode), zero in legacy mode.</summary>
    public PhysAddr PasidDirectory { get; }

    /// <summary>Entries of the PASID directory.</summary>
    public uint DirectoryEntries { get; }

    /// <summary>Pages the directory occupies.</summary>
    public ulong DirectoryPages { get; }

    /// <summary>The domain installed at each PASID (RID_PASID for the RID), as the driver set it.</summary>
    public IReadOnlyDictionary<uint, IommuDomain> Domains => _domains;

    /// <summary>PASID-table pages allocated.</summary>
    public int PasidTablePages
    {
        get
        {
            int n = 0;
            foreach (PhysAddr t in _pasidTables)
            {
                n += t.Value == 0 ? 0 : 1;
            }

            return n;
        }
    }

    /// <summary>The address of <paramref name="pasid"/>'s 64-byte PASID entry; allocates its table page when <paramref name="allocate"/>, else zero if absent.</summary>
    public PhysAddr PasidEntryAddress(uint pasid, bool allocate)
    {
        uint dir = PasidDirEntry.DirectoryIndex(pasid);
        if (dir >= _pasidTables.Length)
        {
            throw new IoasidException(Errno.EINVAL, $"PASID {pasid} is beyond the PASID table of {Device}");
        }

        if (_pasidTables[dir].Value == 0)
        {
            if (!allocate)
            {
                return PhysAddr.Zero;
            }

            PhysAddr table = _memory.Frames.AllocateZeroed();
            _pasidTables[dir] = table;
            _memory.WriteU64(new PhysAddr(PasidDirectory.Value + ((ulong)dir * PasidDirEntry.Size)), PasidDirEntry.Create(table).Value);
        }

        return new PhysAddr(_pasidTables[dir].Value + ((ulong)PasidDirEntry.TableIndex(pasid) * PasidEntry.Size));
    }

    /// <summary>Reads the PASID entry of <paramref name="pasid"/> (zero when its table does not exist).</summary>
    public PasidEntry ReadPasidEntry(uint pasid)
    {
        PhysAddr a = PasidEntryAddress(pasid, allocate: false);
        return a.Value == 0
            ? default
            : new PasidEntry(_memory.ReadU64(a), _memory.ReadU64(new PhysAddr(a.Value + 8)), _memory.ReadU64(new PhysAddr(a.Value + 16)), _memory.ReadU64(new PhysAddr(a.Value + 24)));
    }

    /// <summary>
    /// Writes a PASID entry: the upper qwords first and qw0 (with P) last, so the hardware never reads a present
    /// entry with half of its fields.
    /// </summary>
    internal void WritePasidEntry(uint pasid, in PasidEntry entry)
    {
        PhysAddr a = PasidEntryAddress(pasid, allocate: true);
        for (ulong q = 4; q < 8; q++)
        {
            _memory.WriteU64(new PhysAddr(a.Value + (q * 8)), 0);
        }

        _memory.WriteU64(new PhysAddr(a.Value + 24), entry.Q3);
        _memory.WriteU64(new PhysAddr(a.Value + 16), entry.Q2);
        _memory.WriteU64(new PhysAddr(a.Value + 8), entry.Q1);
        _memory.WriteU64(a, entry.Q0);
    }

    /// <summary>Clears P (and everything) of a PASID entry: qw0 first, so the entry stops being present at once.</summary>
    internal void ClearPasidEntry(uint pasid)
    {
        PhysAddr a = PasidEntryAddress(pasid, allocate: false);
        if (a.Value == 0)
        {
            return;
        }

        _memory.WriteU64(a, 0);
        for (ulong q = 1; q < 8; q++)
        {
            _memory.WriteU64(new PhysAddr(a.Value + (q * 8)), 0);
        }
    }

    /// <summary>Sets the ATS Enable bit in the device's ATS capability (<c>pci_enable_ats</c>), when it has ATS.</summary>
    internal void EnableAts()
    {
        if (AtsSupported && !AtsEnabled)
        {
            Unit.Hardware.Ats.Enable(Device.Rid);
            AtsEnabled = true;
        }
    }

    /// <summary>Clears the device's ATS Enable bit (<c>pci_disable_ats</c>); the device drops its device TLB.</summary>
    internal void DisableAts()
    {
        if (AtsEnabled)
        {
            Unit.Hardware.Ats.Disable(Device.Rid);
            AtsEnabled = false;
        }
    }

    internal void SetDomain(uint pasid, IommuDomain? domain)
    {
        if (domain is null)
        {
            _domains.Remove(pasid);
        }
        else
        {
            _domains[pasid] = domain;
        }
    }

    internal IommuDomain? DomainAt(uint pasid) => _domains.TryGetValue(pasid, out IommuDomain? d) ? d : null;

    internal void Free()
    {
        foreach (PhysAddr t in _pasidTables)
        {
            if (t.Value != 0)
            {
                _memory.Frames.Free(t);
            }
        }

        if (DirectoryPages != 0)
        {
            _memory.Frames.FreeContiguous(PasidDirectory, DirectoryPages);
        }
    }
}
