using System.Collections.Concurrent;
using Microsoft.CodeAnalysis;

namespace Ioasid.Analyzers.Flow;

/// <summary>One <see cref="OriginTracker"/> per operation tree (method body, initializer) of an operation block.</summary>
internal sealed class TrackerCache
{
    private readonly IoasidSymbols _symbols;
    private readonly ConcurrentDictionary<IOperation, OriginTracker> _trackers = new();

    public TrackerCache(IoasidSymbols symbols) => _symbols = symbols;

    public OriginTracker For(IOperation operation)
    {
        var root = operation;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        return _trackers.GetOrAdd(root, r => new OriginTracker(_symbols, r));
    }
}
