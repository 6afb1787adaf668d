using System.Runtime.CompilerServices;

// The translate and map paths inline many small structs (Translation, IotlbEntry, DmaRequest copies); with locals
// zero-initialised the JIT cleared a ~430-byte frame on every translation. C# definite assignment already guarantees
// every local is written before it is read; the only memory this leaves uninitialised is stackalloc'd, and every
// stackalloc in this assembly is fully written before it is read (keep it so).
[module: SkipLocalsInit]
