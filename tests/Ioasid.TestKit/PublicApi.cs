using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ioasid.TestKit;

/// <summary>
/// Public API text of an assembly (substitute for PublicApiGenerator's <c>GeneratePublicApi()</c>): one line per
/// public or protected type and member, read through Roslyn symbols from the assembly file, in a fixed
/// <see cref="SymbolDisplayFormat"/>, ordered ordinally by (type, member name, line) so each type's line is
/// followed by its members. Snapshot the result with <see cref="Snapshot.Verify"/>.
/// </summary>
public static class PublicApi
{
    /// <summary>How types are referred to inside lines: full namespace, type arguments, special type keywords, nullable <c>?</c>.</summary>
    public static SymbolDisplayFormat TypeNameFormat { get; } = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes
                              | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers
                              | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    // The declared name of a type: as TypeNameFormat plus in/out variance of its type parameters.
    private static readonly SymbolDisplayFormat DeclarationNameFormat =
        TypeNameFormat.WithGenericsOptions(SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeVariance);

    /// <summary>How members are printed: accessibility, modifiers, type, containing type, parameters with names and defaults, constraints, constant values.</summary>
    public static SymbolDisplayFormat MemberFormat { get; } = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeTypeConstraints,
        memberOptions: SymbolDisplayMemberOptions.IncludeAccessibility | SymbolDisplayMemberOptions.IncludeModifiers
                       | SymbolDisplayMemberOptions.IncludeType | SymbolDisplayMemberOptions.IncludeParameters
                       | SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeExplicitInterface
                       | SymbolDisplayMemberOptions.IncludeConstantValue | SymbolDisplayMemberOptions.IncludeRef,
        delegateStyle: SymbolDisplayDelegateStyle.NameAndSignature,
        extensionMethodStyle: SymbolDisplayExtensionMethodStyle.StaticMethod,
        parameterOptions: SymbolDisplayParameterOptions.IncludeParamsRefOut | SymbolDisplayParameterOptions.IncludeType
                          | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeDefaultValue
                          | SymbolDisplayParameterOptions.IncludeExtensionThis,
        propertyStyle: SymbolDisplayPropertyStyle.NameOnly,
        localOptions: SymbolDisplayLocalOptions.None,
        kindOptions: SymbolDisplayKindOptions.IncludeMemberKeyword,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes
                              | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers
                              | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat TypeWithConstraintsFormat =
        DeclarationNameFormat.WithGenericsOptions(SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeVariance
                                                  | SymbolDisplayGenericsOptions.IncludeTypeConstraints);

    /// <summary>Attributes left out of the dump: compiler bookkeeping and debugger hints, not API contract.</summary>
    public static ImmutableHashSet<string> ExcludedAttributes { get; } = ImmutableHashSet.Create(StringComparer.Ordinal,
        "System.ParamArrayAttribute",
        "System.Reflection.DefaultMemberAttribute",
        "System.Diagnostics.CodeAnalysis.ExcludeFromCodeCoverageAttribute",
        "System.Diagnostics.DebuggerBrowsableAttribute",
        "System.Diagnostics.DebuggerDisplayAttribute",
        "System.Diagnostics.DebuggerHiddenAttribute",
        "System.Diagnostics.DebuggerNonUserCodeAttribute",
        "System.Diagnostics.DebuggerStepThroughAttribute",
        "System.Diagnostics.DebuggerTypeProxyAttribute",
        "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
        "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
        "System.Runtime.CompilerServices.CompilerFeatureRequiredAttribute",
        "System.Runtime.CompilerServices.CompilerGeneratedAttribute",
        "System.Runtime.CompilerServices.DateTimeConstantAttribute",
        "System.Runtime.CompilerServices.DecimalConstantAttribute",
        "System.Runtime.CompilerServices.DynamicAttribute",
        "System.Runtime.CompilerServices.ExtensionAttribute",
        "System.Runtime.CompilerServices.IsByRefLikeAttribute",
        "System.Runtime.CompilerServices.IsReadOnlyAttribute",
        "System.Runtime.CompilerServices.IsUnmanagedAttribute",
        "System.Runtime.CompilerServices.IteratorStateMachineAttribute",
        "System.Runtime.CompilerServices.NativeIntegerAttribute",
        "System.Runtime.CompilerServices.NullableAttribute",
        "System.Runtime.CompilerServices.NullableContextAttribute",
        "System.Runtime.CompilerServices.NullablePublicOnlyAttribute",
        "System.Runtime.CompilerServices.PreserveBaseOverridesAttribute",
        "System.Runtime.CompilerServices.RefSafetyRulesAttribute",
        "System.Runtime.CompilerServices.RequiredMemberAttribute",
        "System.Runtime.CompilerServices.ScopedRefAttribute",
        "System.Runtime.CompilerServices.SkipLocalsInitAttribute",
        "System.Runtime.CompilerServices.TupleElementNamesAttribute");

    /// <summary>The public API of a loaded assembly, read from its file (<see cref="Assembly.Location"/>).</summary>
    public static string Dump(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location))
        {
            throw new ArgumentException($"Assembly '{assembly.FullName}' has no file location.", nameof(assembly));
        }

        return Dump(assembly.Location);
    }

    /// <summary>The public API of an assembly file: <see cref="Lines(string)"/> joined with <c>\n</c>.</summary>
    public static string Dump(string assemblyPath) => string.Join("\n", Lines(assemblyPath));

    /// <summary>
    /// The public API lines of an assembly file. The file is read together with the net10.0 reference pack
    /// (<see cref="TestReferences.Net100"/>) and the assemblies it references that sit next to it (direct references
    /// must be found; their own references are added when present),
    /// so types from other project assemblies resolve.
    /// </summary>
    public static ImmutableArray<string> Lines(string assemblyPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(assemblyPath);
        var fullPath = Path.GetFullPath(assemblyPath);
        var subject = MetadataReference.CreateFromImage(File.ReadAllBytes(fullPath), filePath: fullPath);
        var references = TestReferences.Net100.AddRange(FindNeighbourReferences(fullPath)).Add(subject);
        var compilation = CSharpCompilation.Create("PublicApiDump", references: references,
            options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, metadataImportOptions: MetadataImportOptions.All));
        if (compilation.GetAssemblyOrModuleSymbol(subject) is not IAssemblySymbol assembly)
        {
            throw new InvalidOperationException($"'{fullPath}' could not be read as an assembly.");
        }

        var entries = new List<(string Key, int Group, string Member, string Line)>();
        VisitNamespace(assembly.GlobalNamespace, entries);
        return entries
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ThenBy(e => e.Group)
            .ThenBy(e => e.Member, StringComparer.Ordinal)
            .ThenBy(e => e.Line, StringComparer.Ordinal)
            .Select(e => e.Line)
            .ToImmutableArray();
    }

    // Direct references must resolve (from the reference pack or the assembly's folder); references of those are
    // added when present and skipped otherwise (e.g. optional dependencies of package assemblies that are not deployed).
    private static ImmutableArray<MetadataReference> FindNeighbourReferences(string assemblyPath)
    {
        var directory = Path.GetDirectoryName(assemblyPath)!;
        var found = new SortedDictionary<string, MetadataReference>(StringComparer.OrdinalIgnoreCase);
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<(string Path, bool Direct)>();
        pending.Enqueue((assemblyPath, true));
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Path.GetFileNameWithoutExtension(assemblyPath) };
        while (pending.Count > 0)
        {
            var (current, direct) = pending.Dequeue();
            foreach (var name in ReferencedAssemblyNames(current))
            {
                if (TestReferences.Net100AssemblyNames.Contains(name) || !seen.Add(name))
                {
                    continue;
                }

                var candidate = Path.Combine(directory, name + ".dll");
                if (File.Exists(candidate))
                {
                    found[name] = MetadataReference.CreateFromImage(File.ReadAllBytes(candidate), filePath: candidate);
                    pending.Enqueue((candidate, false));
                }
                else if (direct)
                {
                    missing.Add(name);
                }
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"Cannot dump the public API of '{assemblyPath}': referenced assemblies not found next to it nor in the net10.0 reference pack: " +
                string.Join(", ", missing) + ".");
        }

        return found.Values.ToImmutableArray();
    }

    private static IEnumerable<string> ReferencedAssemblyNames(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences
            .Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))
            .ToArray();
    }

    private static void VisitNamespace(INamespaceSymbol ns, List<(string, int, string, string)> entries)
    {
        foreach (var member in ns.GetMembers())
        {
            if (member is INamespaceSymbol child)
            {
                VisitNamespace(child, entries);
            }
            else if (member is INamedTypeSymbol type && IsVisible(type.DeclaredAccessibility, containing: null) && !IsCompilerGenerated(type))
            {
                VisitType(type, entries);
            }
        }
    }

    private static void VisitType(INamedTypeSymbol type, List<(string, int, string, string)> entries)
    {
        var key = type.ToDisplayString(TypeNameFormat);
        entries.Add((key, 0, string.Empty, Attributes(type) + TypeLine(type)));

        foreach (var member in type.GetMembers())
        {
            if (member is INamedTypeSymbol nested)
            {
                if (IsVisible(nested.DeclaredAccessibility, type) && !IsCompilerGenerated(nested))
                {
                    VisitType(nested, entries);
                }
            }
            else if (IncludeMember(member, type))
            {
                entries.Add((key, 1, member.Name, Attributes(member) + MemberLine(member, type)));
            }
        }
    }

    // Visible outside the assembly: public, or protected (incl. protected internal) in a type that can be derived from.
    private static bool IsVisible(Accessibility accessibility, INamedTypeSymbol? containing) => accessibility switch
    {
        Accessibility.Public => true,
        Accessibility.Protected or Accessibility.ProtectedOrInternal => containing is not null && CanBeDerivedFrom(containing),
        _ => false,
    };

    private static bool CanBeDerivedFrom(INamedTypeSymbol type)
        => type.TypeKind is TypeKind.Class or TypeKind.Interface && !type.IsSealed && !type.IsStatic;

    private static bool IncludeMember(ISymbol member, INamedTypeSymbol container)
    {
        if (member.IsImplicitlyDeclared || IsCompilerGenerated(member) || container.TypeKind == TypeKind.Delegate)
        {
            return false;
        }

        var explicitImplementation = IsVisibleExplicitImplementation(member);
        if (!explicitImplementation && !IsVisible(member.DeclaredAccessibility, container))
        {
            return false;
        }

        return member switch
        {
            IMethodSymbol method => method.MethodKind is MethodKind.Ordinary or MethodKind.Constructor or MethodKind.UserDefinedOperator
                or MethodKind.Conversion or MethodKind.Destructor or MethodKind.ExplicitInterfaceImplementation,
            IPropertySymbol or IEventSymbol => true,
            IFieldSymbol field => !field.IsImplicitlyDeclared && field.AssociatedSymbol is null,
            _ => false,
        };
    }

    private static bool IsVisibleExplicitImplementation(ISymbol member)
    {
        var interfaces = member switch
        {
            IMethodSymbol m when m.MethodKind == MethodKind.ExplicitInterfaceImplementation => m.ExplicitInterfaceImplementations.Select(i => i.ContainingType),
            IPropertySymbol p => p.ExplicitInterfaceImplementations.Select(i => i.ContainingType),
            IEventSymbol e => e.ExplicitInterfaceImplementations.Select(i => i.ContainingType),
            _ => [],
        };
        return interfaces.Any(IsPubliclyReachable);
    }

    private static bool IsPubliclyReachable(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            if (t.DeclaredAccessibility != Accessibility.Public)
            {
                return false;
            }
        }

        return true;
    }

    // [CompilerGenerated] members (record EqualityContract, PrintMembers, …) and unspeakable names (<Clone>$, backing fields).
    private static bool IsCompilerGenerated(ISymbol symbol)
    {
        if (HasCompilerGeneratedAttribute(symbol))
        {
            return true;
        }

        var specialName = symbol is IMethodSymbol { MethodKind: not MethodKind.Ordinary }
                          || symbol is IPropertySymbol { IsIndexer: true } or IPropertySymbol { ExplicitInterfaceImplementations.IsEmpty: false }
                          || symbol is IEventSymbol { ExplicitInterfaceImplementations.IsEmpty: false };
        return !specialName && !SyntaxFacts.IsValidIdentifier(symbol.MetadataName.Split('`')[0]);
    }

    private static bool HasCompilerGeneratedAttribute(ISymbol symbol)
        => symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");

    private static string TypeLine(INamedTypeSymbol type)
    {
        var sb = new StringBuilder();
        sb.Append(SyntaxFacts.GetText(type.DeclaredAccessibility)).Append(' ');

        if (type.TypeKind == TypeKind.Delegate && type.DelegateInvokeMethod is { } invoke)
        {
            sb.Append("delegate ")
              .Append(ReturnPrefix(invoke))
              .Append(invoke.ReturnType.ToDisplayString(TypeNameFormat)).Append(' ')
              .Append(type.ToDisplayString(DeclarationNameFormat))
              .Append('(')
              .Append(string.Join(", ", invoke.Parameters.Select(p => Attributes(p) + p.ToDisplayString(MemberFormat))))
              .Append(')')
              .Append(Constraints(type));
            return sb.ToString();
        }

        if (type.IsStatic)
        {
            sb.Append("static ");
        }
        else if (type.TypeKind == TypeKind.Class && type.IsAbstract)
        {
            sb.Append("abstract ");
        }
        else if (type.TypeKind == TypeKind.Class && type.IsSealed)
        {
            sb.Append("sealed ");
        }

        if (type.TypeKind == TypeKind.Struct && type.IsReadOnly)
        {
            sb.Append("readonly ");
        }

        if (type.TypeKind == TypeKind.Struct && type.IsRefLikeType)
        {
            sb.Append("ref ");
        }

        sb.Append(type.TypeKind switch
        {
            TypeKind.Class when type.IsRecord => "record",
            TypeKind.Struct when type.IsRecord || IsRecordStruct(type) => "record struct",
            TypeKind.Class => "class",
            TypeKind.Struct => "struct",
            TypeKind.Interface => "interface",
            TypeKind.Enum => "enum",
            _ => type.TypeKind.ToString().ToLowerInvariant(),
        });
        sb.Append(' ').Append(type.ToDisplayString(DeclarationNameFormat));

        var bases = new List<string>();
        if (type.TypeKind == TypeKind.Enum)
        {
            if (type.EnumUnderlyingType is { SpecialType: not SpecialType.System_Int32 } underlying)
            {
                bases.Add(underlying.ToDisplayString(TypeNameFormat));
            }
        }
        else
        {
            if (type.BaseType is { SpecialType: not (SpecialType.System_Object or SpecialType.System_ValueType) } baseType)
            {
                bases.Add(baseType.ToDisplayString(TypeNameFormat));
            }

            bases.AddRange(type.Interfaces.Where(IsPubliclyReachable)
                .Select(i => i.ToDisplayString(TypeNameFormat))
                .Order(StringComparer.Ordinal));
        }

        if (bases.Count > 0)
        {
            sb.Append(" : ").Append(string.Join(", ", bases));
        }

        sb.Append(Constraints(type));
        return sb.ToString();
    }

    // Metadata does not mark record structs (IsRecord is false for them); their synthesized PrintMembers(StringBuilder) does.
    private static bool IsRecordStruct(INamedTypeSymbol type)
        => type.GetMembers("PrintMembers").OfType<IMethodSymbol>().Any(m =>
            m.Parameters.Length == 1 && m.Parameters[0].Type.ToDisplayString() == "System.Text.StringBuilder" && HasCompilerGeneratedAttribute(m));

    // " where T : …" exactly as Roslyn prints it for members, cut from the type's display.
    private static string Constraints(INamedTypeSymbol type)
    {
        var plain = type.ToDisplayString(DeclarationNameFormat);
        var withConstraints = type.ToDisplayString(TypeWithConstraintsFormat);
        return withConstraints.StartsWith(plain, StringComparison.Ordinal) ? withConstraints[plain.Length..] : string.Empty;
    }

    private static string ReturnPrefix(IMethodSymbol method)
        => method.ReturnsByRefReadonly ? "ref readonly " : method.ReturnsByRef ? "ref " : string.Empty;

    private static string MemberLine(ISymbol member, INamedTypeSymbol container)
    {
        var text = member.ToDisplayString(MemberFormat);
        if (IsVisibleExplicitImplementation(member) && member.DeclaredAccessibility == Accessibility.Private && text.StartsWith("private ", StringComparison.Ordinal))
        {
            text = text["private ".Length..];
        }

        var parameters = member switch
        {
            IMethodSymbol method => method.Parameters,
            IPropertySymbol { IsIndexer: true } indexer => indexer.Parameters,
            _ => ImmutableArray<IParameterSymbol>.Empty,
        };
        text = AddParameterAttributes(text, parameters);

        if (member is IMethodSymbol { ReturnsVoid: false } returning && ReturnAttributes(returning) is { Length: > 0 } returnAttributes)
        {
            text = returnAttributes + text;
        }

        if (member is IFieldSymbol { IsConst: true })
        {
            // decimal constants are static readonly fields in metadata; Roslyn then prints "const readonly".
            text = text.Replace("const readonly ", "const ", StringComparison.Ordinal);
        }

        if (container.TypeKind == TypeKind.Interface)
        {
            text = InterfaceMemberModifiers(member) + text;
        }

        if (member is IPropertySymbol property)
        {
            text += Accessors(property, container);
        }

        return text;
    }

    // Roslyn prints interface members without accessibility or modifiers (implicitly public abstract); spell out
    // what is not implied: a non-public accessibility and static members (static abstract / static virtual / static).
    private static string InterfaceMemberModifiers(ISymbol member)
    {
        var sb = new StringBuilder();
        if (member.DeclaredAccessibility != Accessibility.Public && !IsVisibleExplicitImplementation(member))
        {
            sb.Append(SyntaxFacts.GetText(member.DeclaredAccessibility)).Append(' ');
        }

        if (member.IsStatic && member is not IFieldSymbol)
        {
            sb.Append(member.IsAbstract ? "static abstract " : member.IsVirtual ? "static virtual " : "static ");
        }

        return sb.ToString();
    }

    // Roslyn's display has no parameter attributes; splice them in where the parameter list appears exactly once.
    private static string AddParameterAttributes(string text, ImmutableArray<IParameterSymbol> parameters)
    {
        if (parameters.IsEmpty || parameters.All(p => Attributes(p).Length == 0))
        {
            return text;
        }

        var plain = string.Join(", ", parameters.Select(p => p.ToDisplayString(MemberFormat)));
        var attributed = string.Join(", ", parameters.Select(p => Attributes(p) + p.ToDisplayString(MemberFormat)));
        var at = text.IndexOf(plain, StringComparison.Ordinal);
        return at >= 0 && text.IndexOf(plain, at + 1, StringComparison.Ordinal) < 0
            ? string.Concat(text.AsSpan(0, at), attributed, text.AsSpan(at + plain.Length))
            : text;
    }

    private static string ReturnAttributes(IMethodSymbol method)
        => string.Concat(FilteredAttributes(method.GetReturnTypeAttributes()).Select(a => $"[return: {a}] "));

    private static string Accessors(IPropertySymbol property, INamedTypeSymbol container)
    {
        var explicitImplementation = !property.ExplicitInterfaceImplementations.IsEmpty;
        var parts = new List<string>();
        foreach (var accessor in new[] { property.GetMethod, property.SetMethod })
        {
            if (accessor is null || (!explicitImplementation && !IsVisible(accessor.DeclaredAccessibility, container)))
            {
                continue;
            }

            var keyword = accessor.MethodKind == MethodKind.PropertyGet ? "get" : accessor.IsInitOnly ? "init" : "set";
            parts.Add(!explicitImplementation && accessor.DeclaredAccessibility != property.DeclaredAccessibility
                ? $"{SyntaxFacts.GetText(accessor.DeclaredAccessibility)} {keyword};"
                : $"{keyword};");
        }

        return " { " + string.Join(" ", parts) + " }";
    }

    private static string Attributes(ISymbol symbol)
        => string.Concat(FilteredAttributes(symbol.GetAttributes()).Select(a => $"[{a}] "));

    private static IEnumerable<string> FilteredAttributes(ImmutableArray<AttributeData> attributes)
        => attributes
            .Where(a => a.AttributeClass is { } c && IsPubliclyReachable(c) && !ExcludedAttributes.Contains(c.ToDisplayString(TypeNameFormat)))
            .Select(FormatAttribute)
            .Order(StringComparer.Ordinal);

    private static string FormatAttribute(AttributeData attribute)
    {
        var name = attribute.AttributeClass!.ToDisplayString(TypeNameFormat);
        if (name.EndsWith("Attribute", StringComparison.Ordinal))
        {
            name = name[..^"Attribute".Length];
        }

        var arguments = attribute.ConstructorArguments.Select(a => a.ToCSharpString())
            .Concat(attribute.NamedArguments.Select(a => $"{a.Key} = {a.Value.ToCSharpString()}"))
            .ToArray();
        return arguments.Length == 0 ? name : $"{name}({string.Join(", ", arguments)})";
    }
}
