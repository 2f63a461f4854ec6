#if canImport(Glibc)
import Glibc
#endif

/// SIPp (Debian sip-tester) as a black-box peer: one run of a scenario, started by pid with its
/// statistics going to a CSV (`-trace_stat -stf`), bounded by SIPp's own `-timeout` and, past a
/// margin, killed by the pid it was started with (peers.md: SIPp can ignore `-timeout`).
public enum SIPp {
    /// The `sipp` binary, nil when it is not installed (`make deps` installs sip-tester).
    public static var executable: String? { findExecutable("sipp") }

    /// SIPp's transport modes: one socket for all calls (`u1`, `t1`).
    public enum Transport: String, Sendable, CaseIterable {
        case udp
        case tcp

        /// The `-t` argument.
        public var mode: String { self == .udp ? "u1" : "t1" }
    }

    /// What one run asks for.
    public struct Run: Sendable {
        /// Absolute path of the scenario XML.
        public var scenario: String
        public var host: String = "127.0.0.1"
        public var port: UInt16
        public var transport: Transport = .udp
        /// `-m`: calls to make before exiting.
        public var calls: Int
        /// `-r`: calls per second.
        public var rate: Int
        /// `-l`: simultaneous calls cap; nil leaves SIPp's default.
        public var concurrentLimit: Int? = nil
        /// `-lost`: percentage of packets SIPp drops on purpose (nil: none).
        public var lossPercent: Int? = nil
        /// `-timeout` in seconds (with `-timeout_error`); the process is killed `killMargin` later.
        public var timeout: Int = 60
        public var killMargin: Double = 10
        /// More arguments, e.g. `["-buff_size", "4194304"]`.
        public var extraArguments: [String] = []

        public init(scenario: String, port: UInt16, calls: Int, rate: Int) {
            self.scenario = scenario
            self.port = port
            self.calls = calls
            self.rate = rate
        }
    }

    /// Runs SIPp to the end (or kills it past the timeout) and returns what it reported.
    public static func run(_ run: Run) throws(SubprocessError) -> SIPpResult {
        guard let sipp = executable else { throw SubprocessError(description: "sipp is not installed (Debian sip-tester)") }
        let directory = try TemporaryDirectory(prefix: "dialtone-sipp-")
        defer { directory.remove() }
        let statistics = directory.path + "/stat.csv"
        let errors = directory.path + "/errors.log"
        var arguments = [
            run.host + ":" + String(run.port),
            "-sf", run.scenario,
            "-t", run.transport.mode,
            "-i", run.host,
            "-m", String(run.calls),
            "-r", String(run.rate),
            "-nostdin",
            "-timeout", String(run.timeout), "-timeout_error",
            "-trace_stat", "-stf", statistics, "-fd", "1",
            "-trace_err", "-error_file", errors,
        ]
        if let limit = run.concurrentLimit { arguments += ["-l", String(limit)] }
        if let loss = run.lossPercent { arguments += ["-lost", String(loss)] }
        arguments += run.extraArguments

        let process = try BackgroundProcess(sipp, arguments)
        let deadline = monotonicSeconds() + Double(run.timeout) + run.killMargin
        var exitedInTime = false
        while monotonicSeconds() < deadline {
            if process.hasExited { exitedInTime = true; break }
            usleep(20_000)
        }
        // Returns the status it exited with, or kills it (by pid) and returns the kill's status.
        let status = process.terminate(signal: SIGKILL, timeout: 5)
        let csv = String(decoding: readFile(statistics) ?? [], as: UTF8.self)
        return SIPpResult(
            exitStatus: status.flatMap { BackgroundProcess.exitCode($0) },
            timedOut: !exitedInTime,
            statistics: parseStatistics(csv),
            output: process.output,
            errors: String(decoding: readFile(errors) ?? [], as: UTF8.self)
        )
    }

    /// The last row of a `-trace_stat` CSV (`;`-separated, first line names the columns), by column.
    public static func parseStatistics(_ csv: String) -> [String: String] {
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count >= 2, let header = lines.first, let last = lines.last else { return [:] }
        let names = header.split(separator: ";", omittingEmptySubsequences: false)
        let values = last.split(separator: ";", omittingEmptySubsequences: false)
        var row: [String: String] = [:]
        for (i, name) in names.enumerated() where !name.isEmpty && i < values.count {
            row[String(name)] = String(values[i])
        }
        return row
    }
}

/// How a SIPp run ended.
public struct SIPpResult: Sendable {
    /// SIPp's exit status (0: every call succeeded; 1: some failed; 255: fatal), nil when killed.
    public var exitStatus: Int32?
    /// True when it outlived `-timeout` plus the margin and was killed.
    public var timedOut: Bool
    /// Cumulative counters from the last `-trace_stat` row, e.g. `SuccessfulCall(C)`.
    public var statistics: [String: String]
    /// SIPp's screen output.
    public var output: String
    /// Unexpected messages SIPp logged (`-trace_err`).
    public var errors: String

    /// A cumulative counter, nil when the statistics file lacks it.
    public func counter(_ name: String) -> Int? { statistics[name + "(C)"].flatMap { Int($0) } }
    public var successfulCalls: Int? { counter("SuccessfulCall") }
    public var failedCalls: Int? { counter("FailedCall") }
    public var retransmissions: Int? { counter("Retransmissions") }
    public var createdCalls: Int? { statistics["TotalCallCreated"].flatMap { Int($0) } }

    /// One line for test messages.
    public var summary: String {
        "exit=\(exitStatus.map(String.init) ?? "killed") timedOut=\(timedOut) created=\(createdCalls.map(String.init) ?? "?") "
            + "ok=\(successfulCalls.map(String.init) ?? "?") failed=\(failedCalls.map(String.init) ?? "?") "
            + "retrans=\(retransmissions.map(String.init) ?? "?")"
    }
}

/// The first executable named `name` in /usr/sbin, /usr/bin, /usr/local/{s,}bin or `$PATH`.
func findExecutable(_ name: String) -> String? {
    var folders = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
    if let path = getenv("PATH") {
        folders += String(cString: path).split(separator: ":").map(String.init)
    }
    for folder in folders where !folder.isEmpty {
        let candidate = folder + "/" + name
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}
