using System;

namespace Ioasid.Drivers.Hardware.Vtd;

// The invalidation queue (drivers.md §2.11): descriptors are consumed from IQH to IQT when software moves the tail;
// an invalid descriptor sets FSTS.IQE and stops processing at it (IQH stays on it) until software clears IQE.
public sealed partial class VtdIommuHardware
{
    private const ulong QueueOffsetMask = 0x7FFF0UL; // bits 18:4

    private readonly long[] _descriptorCounts = new long[16];
    private ulong _iqa;
    private ulong _iqh;
    private ulong _iqt;
    private ulong _iqercd;
    private uint _ics;
    private uint _fstsQueue;

    /// <summary>Whether IQA.DW selects 256-bit descriptors.</summary>
    public bool WideDescriptors => (_iqa & VtdRegisters.DescriptorWidth256) != 0;

    /// <summary>Descriptors of <paramref name="type"/> executed.</summary>
    public long DescriptorsExecuted(InvalidationDescriptorType type) => _descriptorCounts[(int)type];

    /// <summary>Total descriptors executed.</summary>
    public long DescriptorsExecutedTotal
    {
        get
        {
            long total = 0;
            foreach (long count in _descriptorCounts)
            {
                total += count;
            }

            return total;
        }
    }

    private void ProcessQueue()
    {
        if ((_gsts & VtdRegisters.QueuedInvalidationEnable) == 0 || (_fstsQueue & VtdRegisters.InvalidationQueueError) != 0)
        {
            return;
        }

        ulong queueBytes = 4096UL << (int)(_iqa & 7);
        ulong baseAddress = _iqa & RootEntry.PageMask;
        bool wide = WideDescriptors;
        ulong step = wide ? 32UL : 16UL;
        while (_iqh != _iqt)
        {
            ulong address = baseAddress + (_iqh % queueBytes);
            var descriptor = new InvalidationDescriptor(
                _memory.ReadU64(new PhysAddr(address)), _memory.ReadU64(new PhysAddr(address + 8)),
                wide ? _memory.ReadU64(new PhysAddr(address + 16)) : 0, wide ? _memory.ReadU64(new PhysAddr(address + 24)) : 0);
            if (!Execute(descriptor, wide))
            {
                _fstsQueue |= VtdRegisters.InvalidationQueueError;
                _iqercd = 1; // IQEI 1: invalid descriptor type or reserved bits
                return;
            }

            _descriptorCounts[(int)descriptor.Type]++;
            _iqh = (_iqh + step) % queueBytes;
        }
    }

    private bool Execute(in InvalidationDescriptor d, bool wide)
    {
        if (d.ReservedMasks() is not { } reserved || (d.Q0 & reserved.Q0) != 0 || (d.Q1 & reserved.Q1) != 0 || d.Q2 != 0 || d.Q3 != 0)
        {
            return false;
        }

        switch (d.Type)
        {
            case InvalidationDescriptorType.ContextCache:
                return InvalidateContextCache(d);
            case InvalidationDescriptorType.Iotlb:
                return InvalidateIotlb(d);
            case InvalidationDescriptorType.DeviceTlb:
                return InvalidateDeviceTlb(d);
            case InvalidationDescriptorType.Wait:
                if ((d.Q0 & InvalidationDescriptor.WaitStatusWriteBit) != 0)
                {
                    _memory.WriteU32(new PhysAddr(d.StatusAddress), d.StatusData);
                }

                if ((d.Q0 & InvalidationDescriptor.WaitInterruptBit) != 0)
                {
                    _ics |= VtdRegisters.WaitComplete;
                }

                return true;
            case InvalidationDescriptorType.PasidIotlb:
                return wide && InvalidatePasidIotlb(d);
            case InvalidationDescriptorType.PasidCache:
                return wide && InvalidatePasidCache(d);
            case InvalidationDescriptorType.PasidDeviceTlb:
                return wide && InvalidatePasidDeviceTlb(d);
            default:
                return false;
        }
    }

    private bool InvalidateContextCache(in InvalidationDescriptor d)
    {
        _lastKey = NoKey;
        switch (d.Granularity)
        {
            case InvalidationDescriptor.GlobalGranularity:
                _contextCache.Clear();
                return true;
            case InvalidationDescriptor.DomainGranularity:
                if (_scalableActive)
                {
                    _contextCache.Clear(); // scalable context entries carry no DID: domain-selective acts globally (as QEMU)
                    return true;
                }

                foreach (var (sid, cached) in _contextCache)
                {
                    if (new ContextEntry(cached.Q0, cached.Q1).DomainId == d.DomainId)
                    {
                        _contextCache.Remove(sid);
                    }
                }

                return true;
            case InvalidationDescriptor.SelectiveGranularity:
                ushort mask = (ushort)~((1 << d.FunctionMask) - 1); // FM ignores the low 1, 2 or 3 function bits
                if (d.FunctionMask == 0)
                {
                    _contextCache.Remove(d.SourceId);
                    return true;
                }

                foreach (var (sid, _) in _contextCache)
                {
                    if ((sid & mask) == (d.SourceId & mask))
                    {
                        _contextCache.Remove(sid);
                    }
                }

                return true;
            default:
                return false;
        }
    }

    private bool InvalidateIotlb(in InvalidationDescriptor d)
    {
        ulong domainTag = (ulong)d.DomainId << VtdIotlbTag.DomainShift;
        switch (d.Granularity)
        {
            case InvalidationDescriptor.GlobalGranularity:
                Iotlb.InvalidateAll();
                _liveTags.Clear();
                _lastInsertedTag = ulong.MaxValue;
                return true;
            case InvalidationDescriptor.DomainGranularity:
                Iotlb.InvalidateTag(domainTag, VtdIotlbTag.DomainMask);
                return true;
            case InvalidationDescriptor.SelectiveGranularity:
                if (d.AddressMask > Capabilities.MaxAddressMask)
                {
                    return false;
                }

                ulong size = 4096UL << d.AddressMask;
                var start = new Iova(d.Address & ~(size - 1));
                foreach (ulong tag in _liveTags)
                {
                    if ((tag & VtdIotlbTag.DomainMask) != domainTag)
                    {
                        continue;
                    }

                    if (!VtdIotlbTag.IsFirstStage(tag))
                    {
                        Iotlb.InvalidateRange(tag, ulong.MaxValue, start, size);
                    }
                    else if (_scalableActive)
                    {
                        // Scalable mode: a PSI also drops every first-stage and nested entry of the DID, whatever the address.
                        Iotlb.InvalidateTag(tag);
                    }
                }

                return true;
            default:
                return false;
        }
    }

    private bool InvalidatePasidIotlb(in InvalidationDescriptor d)
    {
        ulong tag = VtdIotlbTag.Compose(d.DomainId, d.Pasid, firstStage: true);
        switch (d.Granularity)
        {
            case InvalidationDescriptor.PasidAllGranularity:
                Iotlb.InvalidateTag(tag);
                return true;
            case InvalidationDescriptor.SelectiveGranularity:
                if (d.AddressMask > Capabilities.MaxAddressMask)
                {
                    return false;
                }

                ulong size = 4096UL << d.AddressMask;
                Iotlb.InvalidateRange(tag, ulong.MaxValue, new Iova(d.Address & ~(size - 1)), size);
                return true;
            default:
                return false;
        }
    }

    private bool InvalidatePasidCache(in InvalidationDescriptor d)
    {
        _lastKey = NoKey;
        switch (d.Granularity)
        {
            case InvalidationDescriptor.PasidCacheGlobalGranularity:
                _pasidCache.Clear();
                return true;
            case InvalidationDescriptor.PasidCacheDomainGranularity:
            case InvalidationDescriptor.PasidCachePasidGranularity:
                bool byPasid = d.Granularity == InvalidationDescriptor.PasidCachePasidGranularity;
                foreach (var (key, cached) in _pasidCache)
                {
                    if (cached.Entry.DomainId == d.DomainId && (!byPasid || (uint)(key & 0xFFFFF) == d.Pasid))
                    {
                        _pasidCache.Remove(key);
                    }
                }

                return true;
            default:
                return false;
        }
    }
}
