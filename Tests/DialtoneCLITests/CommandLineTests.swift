import DialtoneTestKit
import Testing

/// Usage errors, versions and the `dialtoned` placeholder.
@Suite struct CommandLineTests {
    /// Usage errors exit with EX_USAGE (64), print nothing on standard output and explain on standard
    /// error.
    @Test(arguments: [
        ["sip", "lint"],
        ["sip", "lint", "--as", "banana", "x.sip"],
        ["sip", "lint", "--transport", "sctp", "x.sip"],
        ["sip", "lint", "--bogus", "x.sip"],
        ["sip", "lint", "x.sip", "--as"],
        ["sip", "frobnicate"],
    ])
    func usageErrors(arguments: [String]) throws {
        let result = try run("dialtone", arguments)
        #expect(result.exitStatus == 64, "exit \(String(describing: result.exitStatus))")
        #expect(result.stdout.isEmpty, "\(result.stdoutText)")
        #expect(!result.stderr.isEmpty)
    }

    @Test func lintHelpDocumentsTheOptions() throws {
        let result = try run("dialtone", ["sip", "lint", "--help"])
        #expect(result.exitStatus == 0)
        for word in ["--as", "--transport", "uas", "proxy", "registrar", "udp", "tcp"] {
            #expect(result.stdoutText.contains(word), "help lacks \(word)")
        }
    }

    /// `dialtone --version` and `dialtoned --version` report the same release.
    @Test func versionsMatch() throws {
        let cli = try run("dialtone", ["--version"])
        let daemon = try run("dialtoned", ["--version"])
        #expect(cli.exitStatus == 0)
        #expect(daemon.exitStatus == 0)
        let cliWords = cli.stdoutText.split(whereSeparator: \.isWhitespace)
        let daemonWords = daemon.stdoutText.split(whereSeparator: \.isWhitespace)
        try #require(cliWords.count == 2 && daemonWords.count == 2, "\(cli.stdoutText) / \(daemon.stdoutText)")
        #expect(cliWords[0] == "dialtone")
        #expect(daemonWords[0] == "dialtoned")
        #expect(cliWords[1] == daemonWords[1])
        let parts = cliWords[1].split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }, "\(cliWords[1])")
    }

    @Test func daemonHelp() throws {
        for flag in ["--help", "-h"] {
            let result = try run("dialtoned", [flag])
            #expect(result.exitStatus == 0)
            #expect(result.stdoutText.contains("USAGE: dialtoned"))
            #expect(result.stdoutText.contains("--version"))
        }
    }

    @Test(arguments: [["--bogus"], ["--version", "extra"], ["run"]])
    func daemonUsageErrors(arguments: [String]) throws {
        let result = try run("dialtoned", arguments)
        #expect(result.exitStatus == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderrText.contains("USAGE: dialtoned"))
    }
}
