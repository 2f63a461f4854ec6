#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Config

/// `dialtone status`: the lines' registration status, as the running dialtoned wrote it
/// (`<run-dir>/status.json`, replaced atomically on every change).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each line's registration status (TR-104 Status values).",
        discussion: """
            Reads the status file the running dialtoned keeps (<run-dir>/status.json) and prints \
            one line per account: Alias, Status (Up, Registering, Error_Registration, \
            Error_Network, Deregistering, Disabled, ...), the address-of-record, the server that \
            answered, the registered Contact and the reason of the last change. --json prints the \
            file itself. Exit status: 0 when every line is Up, 3 when some line is not, 1 when \
            there is no status file (dialtoned not running, or no line configured).
            """
    )

    @Option(help: ArgumentHelp("dialtoned's --run-dir.", valueName: "dir"))
    var runDir: String = "/run/dialtone"

    @Flag(help: "Print the status document as JSON.")
    var json = false

    func run() throws {
        let path = runDir + "/status.json"
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path, maxBytes: 1 << 20)
        } catch {
            printError("dialtone: cannot read \(path): \(error)")
            throw ExitCode(1)
        }
        guard let bytes else {
            printError("dialtone: no status at \(path) (is dialtoned running with lines configured?)")
            throw ExitCode(1)
        }
        guard let document = JSONValue.parse(bytes), case .array(let lines)? = document["lines"] else {
            printError("dialtone: \(path) is not a status document")
            throw ExitCode(1)
        }
        // A status file left by a dialtoned that died (SIGKILL, crash) must not say "Up".
        if let pid = document["pid"]?.intValue, pid > 0, kill(pid_t(pid), 0) != 0, errno == ESRCH {
            printError("dialtone: dialtoned (pid \(pid)) is not running; \(path) is stale")
            throw ExitCode(1)
        }
        if json {
            print(document.text(indent: 2))
        } else {
            for line in lines {
                let alias = line["Alias"]?.stringValue ?? "?"
                let status = line["Status"]?.stringValue ?? "?"
                let aor = line["RegisterURI"]?.stringValue ?? "?"
                let server = line["Server"]?.stringValue ?? "-"
                let contact = line["Contact"]?.stringValue ?? "-"
                let reason = line["Reason"]?.stringValue ?? ""
                print("\(alias)  \(status)  \(aor)  server=\(server)  contact=\(contact)  (\(reason))")
            }
        }
        let allUp = lines.allSatisfy { $0["Status"]?.stringValue == "Up" }
        if !allUp { throw ExitCode(3) }
    }
}

/// A line on standard error.
func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
