import ArgumentParser
import SIPCore

/// `dialtone sip lint`: runs raw SIP message files through the checks the daemon makes on received
/// messages and prints one JSON line per message (see `LintReport`).
struct SIPLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check raw SIP messages the way the daemon checks received ones.",
        discussion: """
            Each FILE holds the octets of one UDP datagram (--transport udp) or of a TCP byte \
            stream (--transport tcp, one or more messages). One JSON object is printed per \
            line for each file, and for tcp for each message (with a 1-based "message" index):

              {"file": ..., "verdict": "accept" | "reject",
               "response": <status code> | "drop" | null, "reason": ...}

            A rejected request carries the status code and reason phrase the daemon would \
            answer with; "drop" means the daemon would discard it (or, on a stream, close the \
            connection). Exit status: 0 when every file was read, whatever the verdicts; 1 when \
            a file could not be read (its line says why; the other files are still checked); \
            64 for a usage error.
            """
    )

    enum Role: String, CaseIterable, ExpressibleByArgument {
        case uas, proxy, registrar

        var elementRole: SIPElementRole {
            switch self {
            case .uas: return .uas
            case .proxy: return .proxy
            case .registrar: return .registrar
            }
        }
    }

    enum Transport: String, CaseIterable, ExpressibleByArgument {
        case udp, tcp
    }

    @Option(name: .customLong("as"), help: ArgumentHelp("The role the daemon plays for the messages.", valueName: "role"))
    var role: Role = .uas

    @Option(help: ArgumentHelp("How the messages arrive.", valueName: "transport"))
    var transport: Transport = .udp

    @Argument(help: ArgumentHelp("Files holding raw SIP messages.", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one file to check.") }
    }

    func run() throws {
        let policy = SIPValidationPolicy(role: role.elementRole)
        var paths = RawArguments()
        var unreadable = false
        for file in files {
            let path = paths.claim(file)
            let read: Bool
            switch transport {
            case .udp: read = SIPLint.datagram(file: file, path: path, policy: policy) { print($0.json) }
            case .tcp: read = SIPLint.stream(file: file, path: path, policy: policy) { print($0.json) }
            }
            if !read { unreadable = true }
        }
        if unreadable { throw ExitCode.failure }
    }
}
