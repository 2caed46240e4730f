import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// `--data-dir` and its faults: mode, WAL, the lock, read-only, corrupt, full; each a typed error.
@Suite struct StoreFaultTests {
    @Test func theDataDirectoryIsCreatedPrivateAndTheDatabaseIsInWALMode() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        h.store.appendEvent(group: "g", seq: 1, bytes: [1])
        #expect(h.store.waitIdle())
        let mode = try FileManager.default.attributesOfItem(atPath: temp.data)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        // While the store is open its WAL file exists beside the database.
        #expect(FileManager.default.fileExists(atPath: temp.data + "/circle.db-wal"))
        h.store.close()
        let journal = try runProcess(["sqlite3", temp.data + "/circle.db", "PRAGMA journal_mode"])
        #expect(journal.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "wal")
    }

    @Test func aSecondProcessOnTheSameDirectoryRefusesToStart() throws {
        let temp = TempDirectory()
        let holder = try StoreChild(["hold", temp.data])
        #expect(holder.line() == "open")
        let second = try runProcess(try storeTool(), ["open", temp.data])
        #expect(second.status == 3)
        #expect(second.stdout.contains("in use by another process (pid \(holder.process.processIdentifier))"))
        // In this process too, while the child holds it.
        #expect(throws: StoreError.locked(path: temp.data, holderPID: holder.process.processIdentifier)) {
            try SQLiteStore(directory: temp.data, wake: {})
        }
        #expect(holder.finish() == 0)
        // Once it is gone the directory opens.
        #expect(try runProcess(try storeTool(), ["open", temp.data]).status == 0)
    }

    @Test func theLockOfAKilledProcessIsReleased() throws {
        let temp = TempDirectory()
        let holder = try StoreChild(["hold", temp.data])
        #expect(holder.line() == "open")
        holder.kill9()
        let h = try StoreHarness(temp.data)
        h.store.close()
    }

    @Test func aReadOnlyDirectoryRefusesToStart() throws {
        let temp = TempDirectory()
        try FileManager.default.createDirectory(atPath: temp.data, withIntermediateDirectories: false)
        if isRoot {
            // Root ignores permission bits: make it a real read-only mount.
            try #require(temp.mount(["--bind", "-o", "ro", temp.data, temp.data], target: temp.data))
        } else {
            chmod(temp.data, 0o500)
        }
        #expect(throws: StoreError.readOnly(path: temp.data)) { try SQLiteStore(directory: temp.data, wake: {}) }
        #expect(StoreError.readOnly(path: temp.data).refusesStart)
        // A missing data directory under a read-only parent is refused the same way.
        #expect(throws: StoreError.readOnly(path: temp.data + "/sub")) {
            try SQLiteStore(directory: temp.data + "/sub", wake: {})
        }
    }

    @Test func aCorruptDatabaseRefusesToStart() throws {
        let temp = TempDirectory()
        do {
            let h = try StoreHarness(temp.data)
            h.store.appendEvent(group: "g", seq: 1, bytes: [1])
            h.store.close()
        }
        // Overwrite the header and first pages with garbage.
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: temp.data + "/circle.db"))
        do {
            _ = try SQLiteStore(directory: temp.data, wake: {})
            Issue.record("a corrupt database opened")
        } catch {
            guard case .corrupt = error else { Issue.record("expected .corrupt, got \(error)"); return }
            #expect(error.refusesStart)
        }
        let tool = try runProcess(try storeTool(), ["open", temp.data])
        #expect(tool.status == 3 && tool.stdout.contains("is corrupt"))
    }

    @Test func aFileInTheWayOrANewerSchemaRefusesToStart() throws {
        let temp = TempDirectory()
        #expect(FileManager.default.createFile(atPath: temp.data, contents: Data("not a directory".utf8)))
        #expect(throws: StoreError.directoryUnusable(path: temp.data, errno: ENOTDIR)) {
            try SQLiteStore(directory: temp.data, wake: {})
        }
        let newer = temp.path + "/newer"
        try SQLiteStore(directory: newer, wake: {}).close()
        #expect(try runProcess(["sqlite3", newer + "/circle.db", "PRAGMA user_version=99"]).status == 0)
        #expect(throws: StoreError.incompatibleSchema(found: 99, expected: 3)) {
            try SQLiteStore(directory: newer, wake: {})
        }
    }

    /// A full disk: the batch fails with `.diskFull`, health says so, the writes are kept (not lost) and retried,
    /// and once there is room again they are committed and health is ok.
    @Test func aFullDiskFailsTheWritesVisiblyAndTheyGoThroughOnceThereIsRoom() throws {
        let temp = TempDirectory()
        var configuration = StoreConfiguration()
        configuration.retryDelayNanoseconds = 20_000_000
        let realDisk = isRoot && {
            try? FileManager.default.createDirectory(atPath: temp.data, withIntermediateDirectories: false)
            return temp.mount(["-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", temp.data], target: temp.data)
        }()
        // Root (CI) gets a real 512 KiB tmpfs; elsewhere SQLite's page cap stands in for the disk.
        #expect(realDisk || !isRoot)
        if !realDisk { configuration.maxPageCount = 64 }
        let h = try StoreHarness(temp.data, configuration: configuration)
        let body = [UInt8](repeating: 0x5a, count: 4_000)
        var seq: UInt64 = 0
        h.store.putSnapshot(RoomSnapshot(group: "g", seq: 0, epoch: 1, bytes: [0]))
        while h.store.health == .ok && seq < 1_000 {
            seq += 1
            h.store.appendEvent(group: "g", seq: seq, bytes: body)
            h.store.flush()
            if seq % 10 == 0 { usleep(2_000) }
        }
        h.run { h.store.health != .ok }
        #expect(h.store.health == .failing(.diskFull(path: temp.data + "/circle.db")))
        #expect(h.store.stats.failedBatches >= 1)
        #expect(h.store.stats.queuedWrites > 0)
        #expect(!StoreError.diskFull(path: "").refusesStart)
        // Make room: a bigger tmpfs, or the page cap lifted by reopening after the writes were kept on the loop side.
        if realDisk {
            #expect(temp.mount(["-o", "remount,size=16m", temp.data], target: temp.data))
            h.run { h.store.health == .ok && h.store.stats.queuedWrites == 0 }
            #expect(h.store.health == .ok)
            let room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
            #expect(room.events.count == Int(seq))
            h.store.close()
            #expect(h.store.stats.writesAbandoned == 0)
        } else {
            // Closing while still full gives up after three tries, and says how many writes it abandoned.
            h.store.close()
            #expect(h.store.stats.writesAbandoned > 0)
        }
    }

    /// SQLite's page cap stands in for a full disk anywhere (no root needed); closing while full gives up after
    /// three tries and counts the writes it abandoned.
    @Test func aStoreClosedWhileFullCountsWhatItAbandons() throws {
        let temp = TempDirectory()
        var configuration = StoreConfiguration()
        configuration.maxPageCount = 40
        configuration.retryDelayNanoseconds = 10_000_000
        let h = try StoreHarness(temp.data, configuration: configuration)
        var seq: UInt64 = 0
        h.store.putSnapshot(RoomSnapshot(group: "g", seq: 0, epoch: 1, bytes: [0]))
        while h.store.health == .ok && seq < 200 {
            seq += 1
            h.store.appendEvent(group: "g", seq: seq, bytes: [UInt8](repeating: 1, count: 2_000))
            h.store.flush()
            usleep(1_000)
        }
        h.run { h.store.health != .ok }
        #expect(h.store.health == .failing(.diskFull(path: temp.data + "/circle.db")))
        var readError: StoreError?
        h.store.listRooms { result in if case let .failure(error) = result { readError = error } }
        h.run { readError != nil }
        #expect(readError == .diskFull(path: temp.data + "/circle.db"))
        h.store.close()
        let stats = h.store.stats
        #expect(stats.writesAbandoned > 0)
        #expect(stats.writesCommitted + stats.writesAbandoned + 1 == stats.writesQueued)
    }

    /// What was acknowledged as durable is there after the writer is killed with SIGKILL.
    @Test func aDurableWriteSurvivesSIGKILL() throws {
        let temp = TempDirectory()
        for round in 1...3 {
            let child = try StoreChild(["durable", temp.data, "group-\(round)", "sub-\(round)"])
            #expect(child.line() == "acked")
            child.kill9()
            let h = try StoreHarness(temp.data)
            let room = try #require(try h.await { h.store.loadRoom(group: "group-\(round)", completion: $0) })
            #expect(room.safety == SafetyState(locked: true, removed: ["sub-\(round)"]))
            h.store.close()
        }
    }
}
