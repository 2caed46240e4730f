/// The phase of a session: `intro → sharing ⇄ silence → close → ended`, plus close → sharing, ended from any
/// phase, and a silence from intro or close that returns there.
public enum Phase: String, Sendable, Codable, CaseIterable {
    /// A round of the members present, in join order; late joiners are appended.
    case intro
    /// Open sharing through the raise-hand queue.
    case sharing
    /// A timed pause: mics asked to mute, floor released; returns to the phase it came from.
    case silence
    /// A closing round, like intro.
    case close
    /// Over: everyone gets the end event and a close; the room is dropped.
    case ended

    /// The name on the wire.
    public var wireName: String { rawValue }

    /// Whether this phase runs a round (intro and close).
    public var hasRound: Bool { self == .intro || self == .close }

    /// Whether a facilitator may move the room from this phase to `target` with `set_phase`.
    ///
    /// Silence is entered only with `start_silence` (it needs a length) and left with `end_silence`, its timer, or a
    /// `set_phase` to sharing or close. `silenceOrigin` is the phase a silence came from (it may always go back).
    /// The session ends only by `end_session`, never by `set_phase`.
    public func allowsSetPhase(to target: Phase, silenceOrigin: Phase?) -> Bool {
        switch (self, target) {
        case (.ended, _), (_, .ended): false
        case (.intro, .sharing): true
        case (.sharing, .close): true
        case (.close, .sharing): true
        case (.silence, .sharing), (.silence, .close): true
        case (.silence, let target): target == silenceOrigin
        default: false
        }
    }

    /// Whether a silence may be started from this phase (it returns here when it ends).
    public var allowsSilence: Bool { self == .intro || self == .sharing || self == .close }
}
