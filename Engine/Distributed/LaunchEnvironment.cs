namespace Engine.Distributed;

/// <summary>
/// Who this process is, as its launcher says in the environment, read without starting MPI:
/// <c>mpirun</c>'s <c>OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK/LOCAL_SIZE</c> first, else torchrun's
/// <c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>LOCAL_WORLD_SIZE</c>, else a single process
/// (rank 0 of 1). <see cref="LocalRank"/> picks the GPU (<c>cuda:LocalRank</c>), as in PyTorch.
/// The transport is always MPI: a torchrun-style environment with a world size above 1 must still
/// be started by <c>mpirun</c> (<see cref="ProcessGroup.Init"/> checks that both agree).
/// </summary>
public sealed record LaunchEnvironment(int Rank, int WorldSize, int LocalRank, int LocalWorldSize, string Launcher)
{
    /// <summary>Reads the current process's environment.</summary>
    public static LaunchEnvironment Current => From(name => Environment.GetEnvironmentVariable(name));

    /// <summary>Reads the variables through <paramref name="get"/> (tests pass a dictionary).</summary>
    public static LaunchEnvironment From(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        if (get("OMPI_COMM_WORLD_SIZE") is not null)
            return Make(get, "mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE");
        if (get("WORLD_SIZE") is not null)
            return Make(get, "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE");
        return new LaunchEnvironment(0, 1, 0, 1, "none");
    }

    static LaunchEnvironment Make(Func<string, string?> get, string launcher, string rank, string size, string localRank, string localSize)
    {
        int world = Int(get, size, launcher, required: true, fallback: 1);
        int r = Int(get, rank, launcher, required: true, fallback: 0);
        int lr = Int(get, localRank, launcher, required: false, fallback: r);
        int ls = Int(get, localSize, launcher, required: false, fallback: world);
        if (world < 1) throw new DistributedException($"LaunchEnvironment: {size}={world} ({launcher}); the world size must be at least 1");
        if (r < 0 || r >= world) throw new DistributedException($"LaunchEnvironment: {rank}={r} is outside [0, {world}) given by {size} ({launcher})");
        if (ls < 1 || lr < 0 || lr >= ls) throw new DistributedException($"LaunchEnvironment: {localRank}={lr} is outside [0, {ls}) given by {localSize} ({launcher})");
        return new LaunchEnvironment(r, world, lr, ls, launcher);
    }

    static int Int(Func<string, string?> get, string name, string launcher, bool required, int fallback)
    {
        var text = get(name);
        if (text is null)
        {
            if (required) throw new DistributedException($"LaunchEnvironment: {launcher}'s variables are incomplete: {name} is not set");
            return fallback;
        }
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw new DistributedException($"LaunchEnvironment: {name}='{text}' ({launcher}) is not an integer");
        return v;
    }
}
