using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Ioasid.Analyzers.Flow;

/// <summary>
/// A small, flow-insensitive value tracker over one method body: it follows locals through every assignment in the
/// body, members read from a tracked value, and calls or constructions that take one and return a device-like
/// value. That is what "the compiler can see" of an mdev or a group member travelling to an attach call.
/// </summary>
internal sealed class OriginTracker
{
    private const OriginKind MdevKinds = OriginKind.Mdev | OriginKind.MdevParent;
    private const OriginKind GroupKinds = OriginKind.GroupDevices | OriginKind.GroupMember;

    private readonly IoasidSymbols _symbols;
    private readonly IOperation _root;
    private Dictionary<ISymbol, List<IOperation>>? _writes;
    private Dictionary<ISymbol, IOperation>? _foreachCollections;
    private Dictionary<IMethodSymbol, IAnonymousFunctionOperation>? _lambdas;
    private readonly HashSet<ISymbol> _visiting = new(SymbolEqualityComparer.Default);

    public OriginTracker(IoasidSymbols symbols, IOperation root)
    {
        _symbols = symbols;
        _root = root;
    }

    /// <summary>The origin of the value <paramref name="operation"/> produces.</summary>
    public Origin Of(IOperation? operation)
    {
        // The index and the cycle guard are per tracker; a lock keeps a tracker safe if actions of one block run concurrently.
        lock (_visiting)
        {
            return Trace(operation);
        }
    }

    private Origin Trace(IOperation? operation)
    {
        var op = Strip(operation);
        if (op is null)
        {
            return default;
        }

        if (_symbols.IsMediatedDevice(op.Type))
        {
            return new Origin(OriginKind.Mdev, op);
        }

        switch (op)
        {
            case IConversionOperation conversion:
                return Trace(conversion.Operand);
            case ILocalReferenceOperation local:
                return OfSymbol(local.Local);
            case IParameterReferenceOperation parameter:
                return OfParameter(parameter.Parameter);
            case IPropertyReferenceOperation property:
                return OfMember(property.Instance, property.Property, property.Type, property.Arguments.Select(a => a.Value));
            case IFieldReferenceOperation field:
                return OfMember(field.Instance, field.Field, field.Type, Enumerable.Empty<IOperation>());
            case IInvocationOperation invocation:
                return OfCall(invocation.Instance, invocation.Arguments.Select(a => a.Value), invocation.Type);
            case IObjectCreationOperation creation:
                return OfCall(null, creation.Arguments.Select(a => a.Value), creation.Type);
            case IConditionalOperation conditional:
                return Trace(conditional.WhenTrue).Union(Trace(conditional.WhenFalse));
            case ICoalesceOperation coalesce:
                return Trace(coalesce.Value).Union(Trace(coalesce.WhenNull));
            case IConditionalAccessInstanceOperation:
                return OfConditionalAccessInstance(op);
            case IConditionalAccessOperation access:
                return Trace(access.WhenNotNull);
            case ISimpleAssignmentOperation assignment:
                return Trace(assignment.Value);
            default:
                return default;
        }
    }

    /// <summary>The values written to <paramref name="symbol"/> (a local or parameter) in the body.</summary>
    public IReadOnlyList<IOperation> WritesOf(ISymbol symbol)
    {
        lock (_visiting)
        {
            EnsureIndexed();
            return _writes!.TryGetValue(symbol, out var values) ? values : (IReadOnlyList<IOperation>)System.Array.Empty<IOperation>();
        }
    }

    /// <summary>Strips parentheses and conversions the compiler inserted or the user wrote.</summary>
    public static IOperation? Strip(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    break;
                case IConversionOperation { Operand: { } operand } conversion when conversion.OperatorMethod is null:
                    operation = operand;
                    break;
                default:
                    return operation;
            }
        }
    }

    private Origin OfMember(IOperation? instance, ISymbol member, ITypeSymbol? type, IEnumerable<IOperation> indexArguments)
    {
        var from = Trace(instance);
        foreach (var argument in indexArguments)
        {
            from = from.Union(Trace(argument));
        }

        var result = default(Origin);
        if (from.Has(OriginKind.Mdev) && (member.Name == "Parent" || _symbols.IsDeviceLike(type)) && instance is not null && _symbols.IsMediatedDevice(Strip(instance)!.Type))
        {
            result = new Origin(OriginKind.MdevParent, from.Mdev);
        }

        if (IoasidSymbols.Is(member.ContainingType, _symbols.MdevBinding) && member.Name == "Parent")
        {
            // binding.Parent is the parent's device; the mdev it serves is binding.Mdev.
            result = result.Union(new Origin(OriginKind.MdevParent, instance));
        }

        if (_symbols.IsDeviceLike(type))
        {
            result = result.Union(from.Only(OriginKind.MdevParent | OriginKind.GroupMember));
            if (from.Has(OriginKind.GroupDevices) && indexArguments.Any())
            {
                result = result.Union(new Origin(OriginKind.GroupMember, null)); // group.Devices[i]
            }
        }

        if (IoasidSymbols.Is(member.ContainingType, _symbols.IommuGroup) && member.Name == "Devices")
        {
            result = result.Union(new Origin(OriginKind.GroupDevices, null));
        }

        return result;
    }

    private Origin OfCall(IOperation? instance, IEnumerable<IOperation> arguments, ITypeSymbol? type)
    {
        var from = Trace(instance);
        foreach (var argument in arguments)
        {
            from = from.Union(Trace(argument));
        }

        if (_symbols.IsDeviceLike(type))
        {
            // A device looked up from an mdev (or its parent) is the parent's; one looked up from a group member is that member.
            var kinds = (from.Has(MdevKinds) ? OriginKind.MdevParent : OriginKind.None)
                      | (from.Has(GroupKinds) ? OriginKind.GroupMember : OriginKind.None);
            return new Origin(kinds, from.Mdev);
        }

        // A query over a group's devices (ToList, Where, OrderBy…) is still the group's devices.
        return from.Has(OriginKind.GroupDevices) && type is not null && type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable)
            ? new Origin(OriginKind.GroupDevices, null)
            : default;
    }

    private Origin OfSymbol(ISymbol symbol)
    {
        if (!_visiting.Add(symbol))
        {
            return default;
        }

        try
        {
            EnsureIndexed();
            var result = default(Origin);
            if (_writes!.TryGetValue(symbol, out var values))
            {
                foreach (var value in values)
                {
                    result = result.Union(Trace(value));
                }
            }

            if (_foreachCollections!.TryGetValue(symbol, out var collection))
            {
                var source = Trace(collection);
                if (source.Has(OriginKind.GroupDevices))
                {
                    result = result.Union(new Origin(OriginKind.GroupMember, null));
                }

                result = result.Union(source.Only(OriginKind.MdevParent | OriginKind.GroupMember));
            }

            return result;
        }
        finally
        {
            _visiting.Remove(symbol);
        }
    }

    private Origin OfParameter(IParameterSymbol parameter)
    {
        if (parameter.ContainingSymbol is not IMethodSymbol lambda || lambda.MethodKind != MethodKind.AnonymousFunction)
        {
            return OfSymbol(parameter);
        }

        // A lambda's parameter takes the elements of the collection the call runs it over: group.Devices.ToList().ForEach(d => …).
        EnsureIndexed();
        if (!_lambdas!.TryGetValue(lambda, out var function))
        {
            return default;
        }

        var call = function.Parent;
        while (call is not null and not IInvocationOperation)
        {
            call = call.Parent;
        }

        if (call is not IInvocationOperation invocation)
        {
            return default;
        }

        var source = Trace(invocation.Instance);
        foreach (var argument in invocation.Arguments)
        {
            if (!argument.Value.Descendants().Contains(function) && argument.Value != function)
            {
                source = source.Union(Trace(argument.Value));
            }
        }

        return source.Has(OriginKind.GroupDevices) ? new Origin(OriginKind.GroupMember, null) : default;
    }

    private Origin OfConditionalAccessInstance(IOperation op)
    {
        for (var parent = op.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IConditionalAccessOperation access)
            {
                return Trace(access.Operation);
            }
        }

        return default;
    }

    private void EnsureIndexed()
    {
        if (_writes is not null)
        {
            return;
        }

        var writes = new Dictionary<ISymbol, List<IOperation>>(SymbolEqualityComparer.Default);
        var collections = new Dictionary<ISymbol, IOperation>(SymbolEqualityComparer.Default);
        var lambdas = new Dictionary<IMethodSymbol, IAnonymousFunctionOperation>(SymbolEqualityComparer.Default);
        foreach (var op in _root.DescendantsAndSelf())
        {
            switch (op)
            {
                case IVariableDeclaratorOperation declarator when declarator.GetVariableInitializer() is { } initializer:
                    Add(writes, declarator.Symbol, initializer.Value);
                    break;
                case ISimpleAssignmentOperation assignment when Target(assignment.Target) is { } target:
                    Add(writes, target, assignment.Value);
                    break;
                case IForEachLoopOperation loop:
                    foreach (var local in LoopLocals(loop.LoopControlVariable))
                    {
                        collections[local] = loop.Collection;
                    }

                    break;
                case IAnonymousFunctionOperation function:
                    lambdas[function.Symbol] = function;
                    break;
            }
        }

        _foreachCollections = collections;
        _lambdas = lambdas;
        _writes = writes;
    }

    private static IEnumerable<ISymbol> LoopLocals(IOperation control) => control switch
    {
        IVariableDeclaratorOperation declarator => new ISymbol[] { declarator.Symbol },
        IVariableDeclarationOperation declaration => declaration.Declarators.Select(d => (ISymbol)d.Symbol),
        ILocalReferenceOperation local => new ISymbol[] { local.Local },
        _ => Enumerable.Empty<ISymbol>(),
    };

    private static ISymbol? Target(IOperation target) => target switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        _ => null,
    };

    private static void Add(Dictionary<ISymbol, List<IOperation>> map, ISymbol key, IOperation value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = new List<IOperation>();
        }

        list.Add(value);
    }
}
