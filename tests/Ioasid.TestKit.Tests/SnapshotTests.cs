namespace Ioasid.TestKit.Tests;

public sealed class SnapshotTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private string Dir => _temp.Combine("Snapshots");

    private string VerifiedPath => Path.Combine(Dir, "FakeTests.Method.verified.txt");

    private string ReceivedPath => Path.Combine(Dir, "FakeTests.Method.received.txt");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Paths_follow_the_Verify_naming_convention()
    {
        var testFile = Path.Combine("src", "tests", "GeneratorTests.cs");

        Assert.Equal(Path.Combine("src", "tests", "Snapshots"), Snapshot.GetDirectory(testFile));
        Assert.Equal("GeneratorTests.Emits_handle", Snapshot.GetStem(testFile, "Emits_handle"));
        Assert.Equal("GeneratorTests.Emits_handle.Rid", Snapshot.GetStem(testFile, "Emits_handle", "Rid"));
        Assert.Equal(Path.Combine("d", "T.M.verified.cs"), Snapshot.GetVerifiedPath("d", "T.M", "cs"));
        Assert.Equal(Path.Combine("d", "T.M.received.cs"), Snapshot.GetReceivedPath("d", "T.M", ".cs"));
        Assert.Throws<ArgumentException>(() => Snapshot.GetStem(testFile, "M", "a/b"));
    }

    [Fact]
    public void Matching_snapshot_passes_and_deletes_a_stale_received_file()
    {
        WriteVerified("line 1\nline 2");
        Directory.CreateDirectory(Dir);
        File.WriteAllText(ReceivedPath, "stale");

        var result = Compare("line 1\r\nline 2", SnapshotAcceptance.None);   // CRLF is normalised

        Assert.Equal(SnapshotOutcome.Matched, result.Outcome);
        Assert.True(result.Passed);
        Assert.False(File.Exists(ReceivedPath));
    }

    [Fact]
    public void Verified_file_with_CRLF_endings_matches_LF_actual()
    {
        WriteVerified("a\r\nb\r\n");

        Assert.Equal(SnapshotOutcome.Matched, Compare("a\nb\n", SnapshotAcceptance.None).Outcome);
    }

    [Fact]
    public void Mismatch_writes_received_file_and_fails_with_a_line_diff()
    {
        WriteVerified("one\ntwo\nthree\nfour");

        var result = Compare("one\nTWO\nthree\nfour\nfive", SnapshotAcceptance.None);

        Assert.Equal(SnapshotOutcome.Mismatch, result.Outcome);
        Assert.False(result.Passed);
        Assert.Equal("one\nTWO\nthree\nfour\nfive", File.ReadAllText(ReceivedPath));
        Assert.Equal("one\ntwo\nthree\nfour", File.ReadAllText(VerifiedPath));   // untouched
        Assert.Contains("--- FakeTests.Method.verified.txt\n+++ FakeTests.Method.received.txt\n", result.Message, StringComparison.Ordinal);
        Assert.Contains(" one\n-two\n+TWO\n three\n four\n+five\n", result.Message, StringComparison.Ordinal);
        Assert.Contains($"diff -u \"{VerifiedPath}\" \"{ReceivedPath}\"", result.Message, StringComparison.Ordinal);
        Assert.Contains("ACCEPT_SNAPSHOTS=1", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_verified_file_fails_writes_received_and_never_creates_verified()
    {
        var result = Compare("new content", SnapshotAcceptance.None);

        Assert.Equal(SnapshotOutcome.Missing, result.Outcome);
        Assert.False(result.Passed);
        Assert.False(File.Exists(VerifiedPath));
        Assert.Equal("new content", File.ReadAllText(ReceivedPath));
        Assert.Contains("does not exist", result.Message, StringComparison.Ordinal);
        Assert.Contains($"mv \"{ReceivedPath}\" \"{VerifiedPath}\"", result.Message, StringComparison.Ordinal);
        Assert.Contains("ACCEPT_SNAPSHOTS=1", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Accept_creates_or_overwrites_verified_file_without_BOM_and_passes()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(ReceivedPath, "stale");
        var accept = new SnapshotAcceptance(AcceptRequested: true, IsCi: false);

        var created = Compare("v1\r\n", accept);
        var overwritten = Compare("v2\n", accept);
        var unchanged = Compare("v2\n", accept);

        Assert.Equal(SnapshotOutcome.Accepted, created.Outcome);
        Assert.Equal(SnapshotOutcome.Accepted, overwritten.Outcome);
        Assert.Equal(SnapshotOutcome.Matched, unchanged.Outcome);
        Assert.True(created.Passed && overwritten.Passed);
        Assert.Equal("v2\n"u8.ToArray(), File.ReadAllBytes(VerifiedPath));
        Assert.False(File.Exists(ReceivedPath));
        Assert.Equal(SnapshotOutcome.Matched, Compare("v2\n", SnapshotAcceptance.None).Outcome);
    }

    [Fact]
    public void Accept_is_refused_on_CI_even_when_the_snapshot_matches()
    {
        WriteVerified("same");
        var ci = new SnapshotAcceptance(AcceptRequested: true, IsCi: true);

        var differing = Compare("different", ci);
        var matching = Compare("same", ci);

        Assert.Equal(SnapshotOutcome.AcceptBlockedOnCi, differing.Outcome);
        Assert.Equal(SnapshotOutcome.AcceptBlockedOnCi, matching.Outcome);
        Assert.False(differing.Passed);
        Assert.Equal("same", File.ReadAllText(VerifiedPath));
        Assert.False(File.Exists(ReceivedPath));
        Assert.Contains("CI=true", differing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CI_without_accept_compares_normally()
    {
        WriteVerified("same");

        Assert.Equal(SnapshotOutcome.Matched, Compare("same", new SnapshotAcceptance(false, IsCi: true)).Outcome);
        Assert.Equal(SnapshotOutcome.Mismatch, Compare("other", new SnapshotAcceptance(false, IsCi: true)).Outcome);
    }

    [Theory]
    [InlineData(null, null, false, false)]
    [InlineData("1", null, true, false)]
    [InlineData("true", null, true, false)]
    [InlineData("TRUE", "true", true, true)]
    [InlineData("0", "1", false, true)]
    [InlineData("yes", "false", false, false)]
    public void Acceptance_reads_ACCEPT_SNAPSHOTS_and_CI(string? accept, string? ci, bool expectedAccept, bool expectedCi)
    {
        var variables = new Dictionary<string, string?> { ["ACCEPT_SNAPSHOTS"] = accept, ["CI"] = ci };

        var acceptance = SnapshotAcceptance.FromVariables(name => variables.GetValueOrDefault(name));

        Assert.Equal(new SnapshotAcceptance(expectedAccept, expectedCi), acceptance);
    }

    [Fact]
    public void Verify_fails_through_xunit_when_the_caller_folder_does_not_exist()
    {
        var missing = _temp.Combine("no-such-folder", "FakeTests.cs");

        var error = Assert.Throws<Xunit.Sdk.FailException>(() => Snapshot.Verify("x", callerFilePath: missing, callerMemberName: "Method"));

        Assert.Contains("cannot locate the test source folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_with_an_explicit_caller_uses_the_Snapshots_folder_beside_it()
    {
        var fakeTestFile = _temp.Combine("FakeTests.cs");
        var acceptance = SnapshotAcceptance.FromEnvironment();   // this test observes whichever path the environment selects

        if (acceptance is { AcceptRequested: true, IsCi: true })
        {
            var refused = Assert.Throws<Xunit.Sdk.FailException>(() => Snapshot.Verify("first", callerFilePath: fakeTestFile, callerMemberName: "Method"));
            Assert.Contains("cannot be accepted on CI", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(VerifiedPath));
            return;
        }

        if (acceptance.AcceptRequested)
        {
            Snapshot.Verify("first", callerFilePath: fakeTestFile, callerMemberName: "Method");
            Assert.Equal("first", File.ReadAllText(VerifiedPath));
            return;
        }

        var error = Assert.Throws<Xunit.Sdk.FailException>(() => Snapshot.Verify("first", callerFilePath: fakeTestFile, callerMemberName: "Method"));
        Assert.Contains("Snapshot missing", error.Message, StringComparison.Ordinal);
        Assert.Equal("first", File.ReadAllText(ReceivedPath));

        File.Move(ReceivedPath, VerifiedPath);   // the documented way to accept
        Snapshot.Verify("first", callerFilePath: fakeTestFile, callerMemberName: "Method");
        Assert.False(File.Exists(ReceivedPath));
    }

    /// <summary>End to end through [CallerFilePath]/[CallerMemberName]: Snapshots/SnapshotTests.Verify_matches_the_committed_snapshot.verified.txt.</summary>
    [Fact]
    public void Verify_matches_the_committed_snapshot()
        => Snapshot.Verify("Committed snapshot\nsecond line\n");

    [Fact]
    public void Verify_with_name_and_extension_matches_the_committed_snapshot()
        => Snapshot.Verify("class Named { }\n", extension: "cs", name: "Named");

    private SnapshotResult Compare(string actual, SnapshotAcceptance acceptance)
        => Snapshot.Compare(actual, Dir, "FakeTests.Method", "txt", acceptance);

    private void WriteVerified(string content)
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(VerifiedPath, content);
    }
}
