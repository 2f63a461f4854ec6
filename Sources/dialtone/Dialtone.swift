import ArgumentParser
import Config

/// `dialtone`: the operator's tool for the Dialtone voice userland.
@main
struct Dialtone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialtone",
        abstract: "Tools for the Dialtone voice userland (SIP + media).",
        version: "dialtone \(DialtoneVersion.string)",
        subcommands: [SIPCommand.self, StatusCommand.self, CallCommand.self, AnswerCommand.self, HangupCommand.self,
                      HoldCommand.self, ResumeCommand.self, CallsCommand.self]
    )
}
