import ArgumentParser
import CircleLoop
import CircleRecords
import CircleServer
import CircleStore
import Logging

/// `circle serve`'s attendance records: the store in `--data-dir`, the records routes over it, daily retention.
/// Kept apart from Serve.swift so that the store's wiring for the rooms can take over `store` without a clash.
final class ServeRecords {
    let store: SQLiteStore
    let service: RecordsService
    private let wakeup: AsyncWakeup

    private init(store: SQLiteStore, service: RecordsService, wakeup: AsyncWakeup) {
        self.store = store
        self.service = service
        self.wakeup = wakeup
    }

    /// Opens the store and the service; nil without `data_dir`. Throws (with the line to log) when the store
    /// refuses to start or the operator secret file is unreadable or too short.
    static func open(_ settings: ServeSettings, tokenSecret: [UInt8]?, server: Server) throws -> ServeRecords? {
        let logger = server.logger
        guard let directory = settings.dataDir else {
            if settings.operatorSecretFile != nil {
                logger.warning("operator_secret_file has no effect without data_dir: no records are kept")
            }
            return nil
        }
        var configuration = RecordsConfiguration()
        configuration.tokenSecret = tokenSecret
        configuration.maxTokenLifetimeSeconds = Int64(settings.maxTokenTTL)
        configuration.retentionDays = settings.recordsDays
        configuration.operatorCredential = try operatorCredential(settings)
        var opened: SQLiteStore?
        let wakeup = AsyncWakeup(loop: server.loop) { opened?.drainCompletions() }
        let signaller = wakeup.signaller
        do {
            opened = try SQLiteStore(directory: directory) { signaller.signal() }
        } catch {
            wakeup.close()
            throw ValidationError("store: \(error.description)")
        }
        let store = opened!
        let service = RecordsService(store: store, loop: server.loop, logger: logger, configuration: configuration)
        logger.info("records kept", metadata: [
            "data_dir": "\(directory)", "days": "\(settings.recordsDays)",
            "erasure": "\(configuration.operatorCredential != nil)", "reads": "\(tokenSecret != nil)",
        ])
        let records = ServeRecords(store: store, service: service, wakeup: wakeup)
        let previous = server.onStopped
        server.onStopped = { [unowned records] in
            previous?()
            records.service.stopRetention()
            records.wakeup.close()
        }
        service.startRetention()
        return records
    }

    /// The operator's credential from `operator_secret_file`; nil without one. Throws when the file is unreadable
    /// or too short (also for `--check-config`).
    static func operatorCredential(_ settings: ServeSettings) throws -> OperatorCredential? {
        guard let path = settings.operatorSecretFile else { return nil }
        guard let bytes = Secret.readFile(path) else {
            throw ValidationError("cannot read operator_secret_file \(path)")
        }
        guard let credential = OperatorCredential(fileText: String(decoding: bytes, as: UTF8.self)) else {
            throw ValidationError("operator_secret_file \(path) must hold at least "
                                  + "\(OperatorCredential.minimumByteCount) bytes")
        }
        return credential
    }

    /// After the loop: commits what is queued and releases the directory.
    func close() { store.close() }
}
