import ArgumentParser
import CircleAuth
import CircleRoom
import Glibc

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print one access token (JWT, HS256) for a room.")

    @Option(name: .long, help: "File holding the secret (else the CIRCLE_SECRET environment variable).")
    var secretFile: String?

    @Option(name: .long, help: "Room id.")
    var room: String

    @Option(name: .long, help: "Participant id (the token's sub).")
    var sub: String

    @Option(name: .long, help: "Display name.")
    var name: String

    @Option(name: .long, help: "facilitator, cofacilitator, member or observer.")
    var role: String = "member"

    @Option(name: .long, help: "Seconds until the token expires.")
    var ttl: Int64 = 3600

    func validate() throws {
        guard Role(rawValue: role) != nil else {
            throw ValidationError("--role must be facilitator, cofacilitator, member or observer")
        }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
    }

    func run() throws {
        guard let secret = try Secret.load(file: secretFile) else {
            throw ValidationError("no secret: give --secret-file or set CIRCLE_SECRET")
        }
        let now = Int64(time(nil))
        guard let role = Role(rawValue: role) else { throw ValidationError("unknown role") }  // validate() checked
        let claims = TokenClaims(sub: sub, name: name, room: room, role: role, exp: now + ttl, nbf: nil, iat: now)
        print(TokenMinter.mint(claims, secret: secret))
    }
}
