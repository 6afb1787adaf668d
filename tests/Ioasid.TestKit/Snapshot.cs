using System.Runtime.CompilerServices;
using System.Text;

namespace Ioasid.TestKit;

/// <summary>
/// Snapshot assertions with Verify's file conventions (substitute for Verify.Xunit):
/// <c>Snapshots/{TestFileName}.{Method}[.{name}].verified.{ext}</c> beside the calling test file, a
/// <c>*.received.{ext}</c> file written on mismatch, line endings normalised to <c>\n</c>.
/// A missing verified file fails; it is never created silently.
/// <see cref="AcceptVariable"/><c>=1</c> overwrites the verified file, except when <c>CI=true</c>.
/// </summary>
public static class Snapshot
{
    /// <summary>Environment variable that accepts the actual value as the new verified snapshot when set to <c>1</c> or <c>true</c>.</summary>
    public const string AcceptVariable = "ACCEPT_SNAPSHOTS";

    /// <summary>Environment variable that marks a CI run (<c>true</c> or <c>1</c>); accepting is then refused.</summary>
    public const string CiVariable = "CI";

    /// <summary>Name of the folder, beside the test file, that holds the snapshot files.</summary>
    public const string DirectoryName = "Snapshots";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Compares <paramref name="actual"/> with the verified snapshot of the calling test and fails the test
    /// (<see cref="Assert.Fail(string)"/>) on a mismatch or a missing snapshot.
    /// </summary>
    /// <param name="actual">The value to compare.</param>
    /// <param name="extension">File extension without the dot, e.g. <c>txt</c> or <c>cs</c>.</param>
    /// <param name="name">Optional suffix for several snapshots in one test (<c>{Method}.{name}</c>).</param>
    /// <param name="callerFilePath">Supplied by the compiler.</param>
    /// <param name="callerMemberName">Supplied by the compiler.</param>
    public static void Verify(string actual, string extension = "txt", string? name = null,
        [CallerFilePath] string callerFilePath = "", [CallerMemberName] string callerMemberName = "")
    {
        ArgumentNullException.ThrowIfNull(actual);
        var testDirectory = Path.GetDirectoryName(callerFilePath);
        if (string.IsNullOrEmpty(testDirectory) || !Directory.Exists(testDirectory))
        {
            Assert.Fail($"Snapshot.Verify cannot locate the test source folder from [CallerFilePath] '{callerFilePath}'. " +
                        "Snapshots live beside the test file, so tests must run from a build whose source paths exist " +
                        "(no PathMap / ContinuousIntegrationBuild path mapping).");
        }

        var result = Compare(actual, GetDirectory(callerFilePath), GetStem(callerFilePath, callerMemberName, name), extension,
            SnapshotAcceptance.FromEnvironment());
        if (!result.Passed)
        {
            Assert.Fail(result.Message);
        }
    }

    /// <summary>The snapshot folder for a test file: <c>{folder of test file}/Snapshots</c>.</summary>
    public static string GetDirectory(string testFilePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(testFilePath);
        return Path.Combine(Path.GetDirectoryName(testFilePath) ?? string.Empty, DirectoryName);
    }

    /// <summary>The file stem <c>{TestFileName}.{Method}[.{name}]</c>.</summary>
    public static string GetStem(string testFilePath, string memberName, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(testFilePath);
        ArgumentException.ThrowIfNullOrEmpty(memberName);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/') || name.Contains('\\'))
            {
                throw new ArgumentException($"Snapshot name '{name}' contains characters that are not valid in a file name.", nameof(name));
            }
        }

        var stem = Path.GetFileNameWithoutExtension(testFilePath) + "." + memberName;
        return name is null ? stem : stem + "." + name;
    }

    /// <summary>Path of <c>{directory}/{stem}.verified.{extension}</c>.</summary>
    public static string GetVerifiedPath(string directory, string stem, string extension)
        => Path.Combine(directory, $"{stem}.verified.{NormalizeExtension(extension)}");

    /// <summary>Path of <c>{directory}/{stem}.received.{extension}</c>.</summary>
    public static string GetReceivedPath(string directory, string stem, string extension)
        => Path.Combine(directory, $"{stem}.received.{NormalizeExtension(extension)}");

    /// <summary>Replaces <c>\r\n</c> and lone <c>\r</c> with <c>\n</c>.</summary>
    public static string NormalizeLineEndings(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
    }

    /// <summary>
    /// The snapshot logic without environment or caller lookups: compares <paramref name="actual"/> with
    /// <c>{directory}/{stem}.verified.{extension}</c>, writes or deletes the received file and, when
    /// <paramref name="acceptance"/> allows it, overwrites the verified file. Never throws for a failed comparison;
    /// the outcome and a readable message are returned.
    /// </summary>
    public static SnapshotResult Compare(string actual, string directory, string stem, string extension, SnapshotAcceptance acceptance)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(stem);

        var verifiedPath = GetVerifiedPath(directory, stem, extension);
        var receivedPath = GetReceivedPath(directory, stem, extension);
        var normalized = NormalizeLineEndings(actual);

        if (acceptance.AcceptRequested && acceptance.IsCi)
        {
            return new SnapshotResult(SnapshotOutcome.AcceptBlockedOnCi, verifiedPath, receivedPath,
                $"{AcceptVariable} is set while {CiVariable}=true: snapshots cannot be accepted on CI. " +
                $"Unset {AcceptVariable} in the CI environment; accept snapshots locally and commit the *.verified.* files. " +
                $"(Snapshot: {verifiedPath})");
        }

        var expected = File.Exists(verifiedPath) ? NormalizeLineEndings(File.ReadAllText(verifiedPath)) : null;

        if (string.Equals(expected, normalized, StringComparison.Ordinal))
        {
            DeleteIfExists(receivedPath);
            return new SnapshotResult(SnapshotOutcome.Matched, verifiedPath, receivedPath, $"Snapshot matches {verifiedPath}.");
        }

        if (acceptance.AcceptRequested)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, normalized, Utf8NoBom);
            DeleteIfExists(receivedPath);
            return new SnapshotResult(SnapshotOutcome.Accepted, verifiedPath, receivedPath,
                $"Snapshot accepted ({AcceptVariable}): {verifiedPath} was {(expected is null ? "created" : "overwritten")}.");
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, normalized, Utf8NoBom);
        var accept = $"To accept the received value: mv \"{receivedPath}\" \"{verifiedPath}\" " +
                     $"(or re-run the test locally with {AcceptVariable}=1) and review the change before committing.";

        if (expected is null)
        {
            return new SnapshotResult(SnapshotOutcome.Missing, verifiedPath, receivedPath,
                $"Snapshot missing: {verifiedPath} does not exist.\n" +
                $"The actual value was written to {receivedPath}.\n" +
                accept);
        }

        var diff = LineDiff.Format(expected, normalized, Path.GetFileName(verifiedPath), Path.GetFileName(receivedPath));
        return new SnapshotResult(SnapshotOutcome.Mismatch, verifiedPath, receivedPath,
            $"Snapshot mismatch: {verifiedPath}\n" +
            $"Received value written to {receivedPath}\n" +
            diff +
            $"Full diff: diff -u \"{verifiedPath}\" \"{receivedPath}\"\n" +
            accept);
    }

    private static string NormalizeExtension(string extension)
    {
        ArgumentException.ThrowIfNullOrEmpty(extension);
        var trimmed = extension.TrimStart('.');
        ArgumentException.ThrowIfNullOrEmpty(trimmed, nameof(extension));
        return trimmed;
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}

/// <summary>Whether snapshots may be accepted: the accept request and the CI marker, read from the environment or given explicitly.</summary>
/// <param name="AcceptRequested"><see cref="Snapshot.AcceptVariable"/> is set to <c>1</c>/<c>true</c>.</param>
/// <param name="IsCi"><see cref="Snapshot.CiVariable"/> is set to <c>true</c>/<c>1</c>; accepting is then refused.</param>
public readonly record struct SnapshotAcceptance(bool AcceptRequested, bool IsCi)
{
    /// <summary>Plain comparison: nothing is accepted.</summary>
    public static SnapshotAcceptance None => default;

    /// <summary>Reads <see cref="Snapshot.AcceptVariable"/> and <see cref="Snapshot.CiVariable"/> from the process environment.</summary>
    public static SnapshotAcceptance FromEnvironment() => FromVariables(Environment.GetEnvironmentVariable);

    /// <summary>Reads the two variables through <paramref name="getVariable"/> (testable without touching the environment).</summary>
    public static SnapshotAcceptance FromVariables(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        return new SnapshotAcceptance(IsOn(getVariable(Snapshot.AcceptVariable)), IsOn(getVariable(Snapshot.CiVariable)));
    }

    private static bool IsOn(string? value)
        => value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
}

/// <summary>Outcome of <see cref="Snapshot.Compare"/>.</summary>
public enum SnapshotOutcome
{
    /// <summary>The actual value equals the verified file; any stale received file was deleted.</summary>
    Matched,

    /// <summary>The verified file was created or overwritten because accepting was requested.</summary>
    Accepted,

    /// <summary>The values differ; the received file was written.</summary>
    Mismatch,

    /// <summary>No verified file exists; the received file was written.</summary>
    Missing,

    /// <summary>Accepting was requested on CI; nothing was written.</summary>
    AcceptBlockedOnCi,
}

/// <summary>Result of a snapshot comparison.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="VerifiedPath">Path of the <c>*.verified.*</c> file.</param>
/// <param name="ReceivedPath">Path of the <c>*.received.*</c> file.</param>
/// <param name="Message">Human-readable explanation (for failures: the diff and how to accept).</param>
public sealed record SnapshotResult(SnapshotOutcome Outcome, string VerifiedPath, string ReceivedPath, string Message)
{
    /// <summary>True for <see cref="SnapshotOutcome.Matched"/> and <see cref="SnapshotOutcome.Accepted"/>.</summary>
    public bool Passed => Outcome is SnapshotOutcome.Matched or SnapshotOutcome.Accepted;
}
