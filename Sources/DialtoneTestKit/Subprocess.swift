#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child process ended, with everything it wrote.
public struct ProcessResult: Sendable {
    /// The exit status when it exited; nil when a signal ended it.
    public var exitStatus: Int32?
    /// The signal that ended it, if one did.
    public var signal: Int32?
    /// True when it outlived the timeout and was killed.
    public var timedOut: Bool
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    /// Standard output as text (invalid UTF-8 repaired).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error as text (invalid UTF-8 repaired).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Why a child could not be started.
public struct SubprocessError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Runs `executable` with `arguments` (raw octets, so non-UTF-8 arguments can be passed), standard
/// input from /dev/null, and collects standard output and error through pipes. The child's
/// environment holds only `inheritedEnvironment` names taken from this process, plus `environment`. A child still running
/// after `timeout` seconds is killed with SIGKILL (by its pid) and reported as `timedOut`. Output beyond
/// `outputLimit` octets per stream is read and discarded, so a runaway child cannot exhaust memory.
public func runProcess(
    _ executable: String,
    rawArguments: [[UInt8]],
    timeout: Double = 60,
    environment: [String: String] = [:],
    outputLimit: Int = 64 << 20
) throws(SubprocessError) -> ProcessResult {
    // Pipes are made close-on-exec and the child spawned under one lock, so that a child spawned at
    // the same time by another test thread cannot inherit this child's pipe ends (which would hold
    // them open and delay end of file).
    spawnLock.lock()
    var locked = true
    defer { if locked { spawnLock.unlock() } }
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    guard pipe(&outPipe) == 0 else { throw SubprocessError(description: "pipe: \(errnoText())") }
    guard pipe(&errPipe) == 0 else {
        close(outPipe[0]); close(outPipe[1])
        throw SubprocessError(description: "pipe: \(errnoText())")
    }
    for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

    let argv: [UnsafeMutablePointer<CChar>?] = ([Array(executable.utf8)] + rawArguments).map { bytes in
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
    } + [nil]
    defer { for p in argv { p?.deallocate() } }

    var variables: [String: String] = [:]
    for name in inheritedEnvironment {
        if let value = getenv(name) { variables[name] = String(cString: value) }
    }
    variables.merge(environment) { _, new in new }
    let envp: [UnsafeMutablePointer<CChar>?] = variables.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in envp { free(p) } }

    var pid: pid_t = 0
    let spawned = argv.withUnsafeBufferPointer { args in
        envp.withUnsafeBufferPointer { env in
            posix_spawn(&pid, executable, &actions, nil, args.baseAddress!, env.baseAddress!)
        }
    }
    close(outPipe[1])
    close(errPipe[1])
    spawnLock.unlock()
    locked = false
    guard spawned == 0 else {
        close(outPipe[0]); close(errPipe[0])
        throw SubprocessError(description: "posix_spawn \(executable): \(String(cString: strerror(spawned)))")
    }

    var out: [UInt8] = []
    var err: [UInt8] = []
    var openFDs = [outPipe[0], errPipe[0]]
    var timedOut = false
    let deadline = monotonicSeconds() + timeout
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while !openFDs.isEmpty {
        let remaining = deadline - monotonicSeconds()
        if remaining <= 0 {
            timedOut = true
            kill(pid, SIGKILL)
            break
        }
        var fds = openFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000) + 1))
        if ready < 0 {
            if errno == EINTR { continue }
            kill(pid, SIGKILL)
            break
        }
        for entry in fds where entry.revents != 0 {
            let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                close(entry.fd)
                openFDs.removeAll { $0 == entry.fd }
                continue
            }
            if entry.fd == outPipe[0] {
                if out.count < outputLimit { out.append(contentsOf: chunk[0..<min(n, outputLimit - out.count)]) }
            } else {
                if err.count < outputLimit { err.append(contentsOf: chunk[0..<min(n, outputLimit - err.count)]) }
            }
        }
    }
    for fd in openFDs { close(fd) }

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { throw SubprocessError(description: "waitpid: \(errnoText())") }
    }
    // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
    let termSignal = status & 0x7F
    let exited = termSignal == 0
    return ProcessResult(
        exitStatus: exited ? (status >> 8) & 0xFF : nil,
        signal: exited ? nil : termSignal,
        timedOut: timedOut,
        stdout: out,
        stderr: err
    )
}

/// `runProcess` with text arguments.
public func runProcess(
    _ executable: String,
    _ arguments: [String],
    timeout: Double = 60,
    environment: [String: String] = [:]
) throws(SubprocessError) -> ProcessResult {
    try runProcess(executable, rawArguments: arguments.map { Array($0.utf8) }, timeout: timeout, environment: environment)
}

/// Environment variables a child inherits (the rest of this process's environment is not passed on,
/// so results do not depend on the caller's shell). LLVM_PROFILE_FILE keeps code coverage working.
public let inheritedEnvironment = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LLVM_PROFILE_FILE"]

/// Serialises pipe creation and spawning (see `runProcess`).
private final class SpawnLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

private let spawnLock = SpawnLock()

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func errnoText() -> String { String(cString: strerror(errno)) }
