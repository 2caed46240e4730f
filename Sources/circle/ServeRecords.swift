import ArgumentParser
import CircleLoop
import CirclePostgres
import CircleRecords
import CircleServer
import CircleStore
import Glibc
import Logging

/// The store `circle serve` drives: SQLite in `--data-dir`, or that for room state and PostgreSQL for records.
protocol ServedStore: GroupStore {
    /// Blocks until what is queued is committed (startup, before the loop runs); false when a store is failing.
    @discardableResult func waitIdle() -> Bool
}

extension SQLiteStore: ServedStore {}
extension SplitGroupStore: ServedStore {}

/// `circle serve`'s attendance records: the store in `--data-dir` (or PostgreSQL with `--records postgres://…`),
/// the records routes over it, daily retention.
/// Kept apart from Serve.swift so that the store's wiring for the rooms can take over `store` without a clash.
final class ServeRecords {
    let store: any ServedStore
    let service: RecordsService
    private let wakeup: AsyncWakeup
    private let logger: Logger

    private init(store: any ServedStore, service: RecordsService, wakeup: AsyncWakeup, logger: Logger) {
        self.store = store
        self.service = service
        self.wakeup = wakeup
        self.logger = logger
    }

    /// Opens the store and the service; nil without `data_dir`. Throws (with the line to log) when the store
    /// refuses to start (PostgreSQL unreachable included) or the operator secret file is unreadable or too short.
    /// A `records` URL that is not `postgres://`, or one without `data_dir`, ends the process with status 2.
    static func open(_ settings: ServeSettings, tokenSecret: [UInt8]?, server: Server) throws -> ServeRecords? {
        let logger = server.logger
        let postgres = recordsURL(settings, logger: logger)
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
        var opened: (any ServedStore)?
        let wakeup = AsyncWakeup(loop: server.loop) { opened?.drainCompletions() }
        let signaller = wakeup.signaller
        do throws(StoreError) {
            let rooms = try SQLiteStore(directory: directory) { signaller.signal() }
            if let postgres {
                do throws(StoreError) {
                    let records = try PostgresRecordStore(url: postgres) { signaller.signal() }
                    opened = SplitGroupStore(rooms: rooms, records: records, waitRooms: { rooms.waitIdle() },
                                             waitRecords: { records.waitIdle() })
                } catch {
                    rooms.close()
                    throw error
                }
            } else {
                opened = rooms
            }
        } catch {
            wakeup.close()
            throw ValidationError("store: \(error.description)")
        }
        let store = opened!
        let service = RecordsService(store: store, loop: server.loop, logger: logger, configuration: configuration)
        logger.info("records kept", metadata: [
            "data_dir": "\(directory)", "days": "\(settings.recordsDays)",
            "erasure": "\(configuration.operatorCredential != nil)", "reads": "\(tokenSecret != nil)",
            "records": "\(postgres?.redacted ?? "data_dir")",
        ])
        let records = ServeRecords(store: store, service: service, wakeup: wakeup, logger: logger)
        let previous = server.onStopped
        server.onStopped = { [unowned records] in
            previous?()
            records.service.stopRetention()
            records.wakeup.close()
        }
        service.startRetention()
        return records
    }

    /// `records`' PostgreSQL URL; nil when records stay in `data_dir`. A URL of another scheme, or one without
    /// `data_dir` (room state stays there), is a usage error: logged without its password, exit status 2.
    static func recordsURL(_ settings: ServeSettings, logger: Logger) -> PostgresURL? {
        guard let text = settings.records else { return nil }
        let problem: String
        if let url = PostgresURL(text) {
            guard settings.dataDir == nil else { return url }
            problem = "records needs data_dir: room state stays there"
        } else {
            problem = "records must be a postgres:// URL (postgres://USER@HOST:PORT/DB), not "
                + PostgresURL.redact(text)
        }
        logger.critical("cannot start", metadata: ["error": "\(problem)"])
        var line = Array("circle: \(problem)\n".utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
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
    func close() {
        store.close()
        let abandoned = store.stats.writesAbandoned
        guard abandoned > 0 else { return }
        logger.error("store closed with writes not committed", metadata: ["writes": "\(abandoned)"])
    }
}
