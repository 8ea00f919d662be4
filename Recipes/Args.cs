using System.Globalization;

namespace Engine.Recipes;

/// <summary>"--name value" options of the recipes' command lines.</summary>
static class Args
{
    public static string String(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return fallback;
        if (at + 1 >= args.Length) throw new UsageException($"{name} needs a value");
        return args[at + 1];
    }

    public static int Int(string[] args, string name, int fallback)
    {
        var text = String(args, name, "");
        if (text == "") return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new UsageException($"{name} takes an integer, got '{text}'");
    }
}

/// <summary>A bad command line: the recipe prints the message and exits with 2.</summary>
sealed class UsageException(string message) : Exception(message);
