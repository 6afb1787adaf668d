using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Ioasid.Analyzers;

/// <summary>
/// Ioasid's well-known types, resolved once per compilation. The Abstractions types are required (a compilation
/// without them does not use Ioasid and is skipped); the Core types are null when only Abstractions is referenced,
/// and every rule checks for that.
/// </summary>
internal sealed class IoasidSymbols
{
    private IoasidSymbols(Compilation compilation, INamedTypeSymbol pasid)
    {
        Pasid = pasid;
        Rid = Get(compilation, "Ioasid.Rid");
        Iova = Get(compilation, "Ioasid.Iova");
        PhysAddr = Get(compilation, "Ioasid.PhysAddr");
        MediatedDeviceAttribute = Get(compilation, "Ioasid.MediatedDeviceAttribute");
        IommuLayerAttribute = Get(compilation, "Ioasid.IommuLayerAttribute");
        PerDeviceTableAttribute = Get(compilation, "Ioasid.PerDeviceTableAttribute");
        MustUseResultAttribute = Get(compilation, "Ioasid.MustUseResultAttribute");
        IommuDriverAttribute = Get(compilation, "Ioasid.IommuDriverAttribute");
        IommuDomainOpsAttribute = Get(compilation, "Ioasid.IommuDomainOpsAttribute");

        MediatedDevice = Get(compilation, "Ioasid.Core.Platform.MediatedDevice");
        PciDevice = Get(compilation, "Ioasid.Core.Platform.PciDevice");
        IommuCore = Get(compilation, "Ioasid.Core.Iommu.IommuCore");
        IommuDevice = Get(compilation, "Ioasid.Core.Iommu.IommuDevice");
        IommuGroup = Get(compilation, "Ioasid.Core.Iommu.IommuGroup");
        IommuDomain = Get(compilation, "Ioasid.Core.Iommu.IommuDomain");
        IommuDomainType = Get(compilation, "Ioasid.Core.Iommu.IommuDomainType");
        IommufdContext = Get(compilation, "Ioasid.Core.Iommufd.IommufdContext");
        IommufdDevice = Get(compilation, "Ioasid.Core.Iommufd.IommufdDevice");
        MdevBinding = Get(compilation, "Ioasid.Core.Iommufd.MdevBinding");
        Ioas = Get(compilation, "Ioasid.Core.Iommufd.Ioas");

        DeviceLike = ImmutableHashSet.CreateRange<ITypeSymbol>(SymbolEqualityComparer.Default,
            new[] { PciDevice, IommuDevice, IommuGroup, IommufdDevice, MdevBinding, Rid }.OfType<ITypeSymbol>());
    }

    public INamedTypeSymbol Pasid { get; }

    public INamedTypeSymbol? Rid { get; }

    public INamedTypeSymbol? Iova { get; }

    public INamedTypeSymbol? PhysAddr { get; }

    public INamedTypeSymbol? MediatedDeviceAttribute { get; }

    public INamedTypeSymbol? IommuLayerAttribute { get; }

    public INamedTypeSymbol? PerDeviceTableAttribute { get; }

    public INamedTypeSymbol? MustUseResultAttribute { get; }

    public INamedTypeSymbol? IommuDriverAttribute { get; }

    public INamedTypeSymbol? IommuDomainOpsAttribute { get; }

    public INamedTypeSymbol? MediatedDevice { get; }

    public INamedTypeSymbol? PciDevice { get; }

    public INamedTypeSymbol? IommuCore { get; }

    public INamedTypeSymbol? IommuDevice { get; }

    public INamedTypeSymbol? IommuGroup { get; }

    public INamedTypeSymbol? IommuDomain { get; }

    public INamedTypeSymbol? IommuDomainType { get; }

    public INamedTypeSymbol? IommufdContext { get; }

    public INamedTypeSymbol? IommufdDevice { get; }

    public INamedTypeSymbol? MdevBinding { get; }

    public INamedTypeSymbol? Ioas { get; }

    /// <summary>Types that stand for a PCI function (or its RID or group) in the IOMMU layer: what an mdev's identity flows into.</summary>
    public ImmutableHashSet<ITypeSymbol> DeviceLike { get; }

    /// <summary>The symbols of <paramref name="compilation"/>, or null when it does not reference Ioasid.Abstractions.</summary>
    public static IoasidSymbols? TryCreate(Compilation compilation)
        => Get(compilation, "Ioasid.Pasid") is { } pasid ? new IoasidSymbols(compilation, pasid) : null;

    /// <summary>Whether <paramref name="type"/> is the same type as <paramref name="wellKnown"/> (false when either is null).</summary>
    public static bool Is(ITypeSymbol? type, ITypeSymbol? wellKnown)
        => type is not null && wellKnown is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, wellKnown);

    /// <summary>Whether <paramref name="type"/> is or derives from <paramref name="baseType"/>.</summary>
    public static bool DerivesFrom(ITypeSymbol? type, ITypeSymbol? baseType)
    {
        for (var t = type; t is not null && baseType is not null; t = t.BaseType)
        {
            if (Is(t, baseType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="symbol"/> carries <paramref name="attribute"/>.</summary>
    public static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute)
        => attribute is not null && symbol.GetAttributes().Any(a => Is(a.AttributeClass, attribute));

    /// <summary>
    /// Whether <paramref name="type"/> is a mediated device: Ioasid's own, or a type marked [MediatedDevice] (on itself,
    /// a base class or an interface it implements).
    /// </summary>
    public bool IsMediatedDevice(ITypeSymbol? type)
    {
        if (type is null || type.SpecialType == SpecialType.System_Object)
        {
            return false;
        }

        if (Is(type, MediatedDevice))
        {
            return true;
        }

        for (var t = type; t is not null; t = t.BaseType)
        {
            if (HasAttribute(t, MediatedDeviceAttribute))
            {
                return true;
            }
        }

        return type.AllInterfaces.Any(i => HasAttribute(i, MediatedDeviceAttribute)) || (type.TypeKind == TypeKind.Interface && HasAttribute(type, MediatedDeviceAttribute));
    }

    /// <summary>Whether <paramref name="type"/> stands for a PCI function, its RID or its group.</summary>
    public bool IsDeviceLike(ITypeSymbol? type) => type is not null && DeviceLike.Contains(type.OriginalDefinition);

    /// <summary>Whether <paramref name="type"/> implements a driver's domain: it derives from IommuDomain or carries [IommuDomainOps].</summary>
    public bool IsDomainType(INamedTypeSymbol type)
        => HasAttribute(type, IommuDomainOpsAttribute) || (!Is(type, IommuDomain) && DerivesFrom(type, IommuDomain));

    /// <summary>
    /// Whether <paramref name="type"/> is IOMMU-layer code: Ioasid's IOMMU core and drivers (namespaces
    /// Ioasid.Core.Iommu and Ioasid.Drivers), a driver or domain class, or a type marked [IommuLayer].
    /// </summary>
    public bool IsIommuLayerType(INamedTypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (HasAttribute(t, IommuLayerAttribute) || HasAttribute(t, IommuDriverAttribute) || IsDomainType(t) || IsIommuLayerNamespace(t.ContainingNamespace))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether calling <paramref name="method"/> hands its arguments to the IOMMU layer: a member of an IOMMU-layer
    /// type, a method marked [IommuLayer], or the iommufd entry points that bind, attach or allocate for a device.
    /// </summary>
    public bool IsIommuLayerMethod(IMethodSymbol method)
    {
        if (HasAttribute(method, IommuLayerAttribute) || IsIommuLayerType(method.ContainingType) || Is(method.ContainingType, IommufdDevice))
        {
            return true;
        }

        return Is(method.ContainingType, IommufdContext)
            && method.Name is "BindDevice" or "AllocHwptPaging" or "AllocHwptNested";
    }

    private static bool IsIommuLayerNamespace(INamespaceSymbol? ns)
    {
        var name = ns?.ToDisplayString() ?? string.Empty;
        return name == "Ioasid.Core.Iommu" || name.StartsWith("Ioasid.Core.Iommu.", System.StringComparison.Ordinal)
            || name == "Ioasid.Drivers" || name.StartsWith("Ioasid.Drivers.", System.StringComparison.Ordinal);
    }

    private static INamedTypeSymbol? Get(Compilation compilation, string metadataName) => compilation.GetTypeByMetadataName(metadataName);
}
