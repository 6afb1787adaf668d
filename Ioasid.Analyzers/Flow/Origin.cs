using System;
using Microsoft.CodeAnalysis;

namespace Ioasid.Analyzers.Flow;

/// <summary>Where a value in a method body comes from, as far as the IOA001/IOA002 rules care.</summary>
[Flags]
internal enum OriginKind
{
    None = 0,

    /// <summary>The value is a mediated device itself (whatever its static type).</summary>
    Mdev = 1,

    /// <summary>The value is, or was looked up from, a mediated device's parent (its PCI function, RID, IOMMU or iommufd device).</summary>
    MdevParent = 2,

    /// <summary>The value is an iommu group's device list (or a query over it).</summary>
    GroupDevices = 4,

    /// <summary>The value is, or was looked up from, one device taken from an iommu group's device list.</summary>
    GroupMember = 8,
}

/// <summary>An origin and, for the mdev kinds, the expression that names the mdev (for messages and code fixes).</summary>
internal readonly struct Origin
{
    public Origin(OriginKind kind, IOperation? mdev)
    {
        Kind = kind;
        Mdev = mdev;
    }

    public OriginKind Kind { get; }

    /// <summary>The operation whose value is the mediated device, when the origin involves one.</summary>
    public IOperation? Mdev { get; }

    public bool Has(OriginKind kind) => (Kind & kind) != 0;

    public Origin Union(Origin other) => new(Kind | other.Kind, Mdev ?? other.Mdev);

    public Origin Only(OriginKind kinds) => new(Kind & kinds, (Kind & kinds & (OriginKind.Mdev | OriginKind.MdevParent)) != 0 ? Mdev : null);
}
