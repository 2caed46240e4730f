import ArgumentParser

@main
struct Circle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circle",
        abstract: "Circle: the real-time signaling server for online group therapy.",
        subcommands: [Serve.self, Token.self, Load.self],
        defaultSubcommand: nil
    )
}
