#if canImport(Glibc)
import Glibc
#endif

/// A long-running child (a daemon under test, a peer): started with its output going to files, stopped
/// by the pid it was started with. `stop()` runs from `deinit` too, so a failing test never leaks it.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let outputPath: String
    private var exited: Int32? = nil
    private let directory: TemporaryDirectory

    /// Starts `executable` with `arguments`; stdout and stderr both go to `outputPath`.
    public init(_ executable: String, _ arguments: [String]) throws(SubprocessError) {
        directory = try TemporaryDirectory()
        outputPath = directory.path + "/output.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        // The child starts with no blocked signals and default handlers, whatever the test runner set
        // (a peer that inherits an ignored SIGTERM cannot be stopped cleanly).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, &attributes, UnsafeMutablePointer(mutating: $0.baseAddress!), nil) }
        guard rc == 0 else { throw SubprocessError(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    deinit { stop() }

    /// Everything the child printed so far.
    public var output: String { String(decoding: readFile(outputPath) ?? [], as: UTF8.self) }

    /// Waits until the output contains `text` (true) or `timeout` seconds pass or the child exits (false).
    public func waitForOutput(_ text: String, timeout: Double = 10) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if output.contains(text) { return true }
            if hasExited { return output.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Whether the child has exited (reaps it).
    public var hasExited: Bool {
        if exited != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = status; return true }
        return false
    }

    /// Sends `signal` and waits up to `timeout` seconds; returns the raw wait status, or nil when it
    /// did not exit (it is then killed).
    @discardableResult
    public func terminate(signal: Int32 = SIGTERM, timeout: Double = 5) -> Int32? {
        if let exited { return exited }
        kill(pid, signal)
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if hasExited { return exited }
            usleep(10_000)
        }
        stop()
        return nil
    }

    /// Kills the child (SIGKILL) if it still runs, and reaps it.
    public func stop() {
        guard !hasExited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        exited = status
    }

    /// Exit code from a wait status, nil when killed by a signal.
    public static func exitCode(_ status: Int32) -> Int32? { (status & 0x7F) == 0 ? (status >> 8) & 0xFF : nil }
}
