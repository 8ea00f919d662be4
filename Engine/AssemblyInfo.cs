using System.Runtime.CompilerServices;

// Scratch buffers for native calls are stackalloc'd on every op: skip zeroing them.
[module: SkipLocalsInit]
[assembly: InternalsVisibleTo("Engine.Tests")]
[assembly: InternalsVisibleTo("Engine.Bench")]
