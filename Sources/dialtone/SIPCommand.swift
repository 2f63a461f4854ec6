import ArgumentParser

/// `dialtone sip …`: SIP tools.
struct SIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "SIP tools.",
        subcommands: [SIPLintCommand.self]
    )
}
