import CircleStore
#if canImport(Glibc)
import Glibc
#endif

// circle-store: the store's micro-benchmark (`bench`, see Scripts/store-bench) and the child process the store's
// tests start and kill (`open`, `hold`, `durable`).

/// Writes a line straight to a descriptor (unbuffered: a child killed right after still said it).
func say(_ line: String, to descriptor: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    say("circle-store: \(message)", to: 2)
    exit(code)
}

func openStore(_ directory: String, _ configuration: StoreConfiguration = StoreConfiguration()) -> SQLiteStore {
    do {
        return try SQLiteStore(directory: directory, configuration: configuration, wake: {})
    } catch {
        say("error: \(error)")
        exit(error.refusesStart ? 3 : 4)
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The process's CPU time (both threads).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

/// Writes `events` events of `size` bytes spread over `rooms` rooms, `perTurn` writes per loop turn (one flush each),
/// with a snapshot every `snapshotEvery` events of a room, as fast as the writer goes or paced at `rate` events a
/// second; prints writes/s, transactions, the writer's CPU share and bytes per event.
func bench(_ arguments: [String]) {
    var options: [String: Int] = ["events": 200_000, "rooms": 1_000, "size": 120, "per-turn": 100,
                                  "snapshot-every": 200, "snapshot-size": 2_000, "rate": 0]
    var directory = "/tmp/circle-store-bench-\(getpid())"
    var index = 0
    while index + 1 < arguments.count {
        let name = String(arguments[index].drop { $0 == "-" })
        if name == "dir" {
            directory = arguments[index + 1]
        } else if options[name] != nil, let value = Int(arguments[index + 1]) {
            options[name] = value
        } else {
            fail("unknown option \(name)")
        }
        index += 2
    }
    let events = options["events"]!, rooms = options["rooms"]!, perTurn = options["per-turn"]!
    let snapshotEvery = options["snapshot-every"]!, rate = options["rate"]!
    let body = [UInt8](repeating: 0x61, count: options["size"]!)
    let snapshotBody = [UInt8](repeating: 0x62, count: options["snapshot-size"]!)
    let store = openStore(directory)
    var seqs = [UInt64](repeating: 0, count: rooms)
    let names = (0..<rooms).map { "room-\($0)" }
    // A room's events follow its snapshot (the store keeps none for a group without one): each room starts with
    // one, before the clock starts.
    for name in names { store.putSnapshot(RoomSnapshot(group: name, seq: 0, epoch: 1, bytes: snapshotBody)) }
    guard store.waitIdle() else { fail("the first snapshots did not commit") }
    let start = monotonicSeconds()
    let cpuStart = cpuSeconds()
    var snapshots = 0
    // Time spent in the store's calls on this ("loop") thread, and the longest flush: the loop's cost.
    var loopSeconds = 0.0, longestFlush = 0.0
    for n in 0..<events {
        let room = n % rooms
        seqs[room] += 1
        let before = monotonicSeconds()
        if seqs[room] % UInt64(snapshotEvery) == 0 {
            store.putSnapshot(RoomSnapshot(group: names[room], seq: seqs[room], epoch: 1, bytes: snapshotBody))
            snapshots += 1
        } else if !store.appendEvent(group: names[room], seq: seqs[room], bytes: body) {
            fail("refused at \(n): queue full")
        }
        let turnEnds = n % perTurn == perTurn - 1
        let flushStart = monotonicSeconds()
        if turnEnds { store.flush() }
        let after = monotonicSeconds()
        loopSeconds += after - before
        if turnEnds {
            longestFlush = max(longestFlush, after - flushStart)
            // Keep under the queue's bound: the sustained rate is the writer's, not the queue's size.
            while store.stats.queuedWrites > 20_000 { usleep(500) }
            // Paced: the turns of a loop that writes `rate` events a second.
            if rate > 0 {
                let due = start + Double(n + 1) / Double(rate)
                let now = monotonicSeconds()
                if due > now { usleep(UInt32((due - now) * 1e6)) }
            }
        }
    }
    guard store.waitIdle() else { fail("store failing: \(store.health)") }
    let elapsed = monotonicSeconds() - start
    let cpu = cpuSeconds() - cpuStart
    let stats = store.stats
    store.close()
    let bytes = fileSize(directory + "/circle.db") + fileSize(directory + "/circle.db-wal")
    let perEvent = Double(bytes) / Double(events)
    say("""
        {"events": \(events), "rooms": \(rooms), "event_bytes": \(body.count), "per_turn": \(perTurn), \
        "snapshots": \(snapshots), "seconds": \(elapsed), "writes_per_s": \(Int(Double(events) / elapsed)), \
        "transactions": \(stats.transactions), "cpu_s": \(cpu), "cpu_us_per_write": \(cpu / Double(events) * 1e6), \
        "loop_ns_per_write": \(Int(loopSeconds / Double(events) * 1e9)), \
        "longest_flush_us": \(Int(longestFlush * 1e6)), "disk_bytes": \(bytes), "disk_bytes_per_event": \(perEvent)}
        """)
}

/// Opens the store and waits until standard input closes (a second process on the same directory must fail).
func hold(_ directory: String) {
    let store = openStore(directory)
    say("open")
    var byte: UInt8 = 0
    while read(0, &byte, 1) > 0 {}
    store.close()
}

/// Writes a removed sub durably, says "acked" once the write is acknowledged, then waits to be killed.
func durable(_ directory: String, group: String, sub: String) {
    let store = openStore(directory)
    var acknowledged = false
    store.putSafety(group: group, SafetyState(locked: true, removed: [sub]), durable: true) { error in
        if let error { fail("durable write failed: \(error)") }
        acknowledged = true
    }
    while !acknowledged {
        usleep(1_000)
        store.drainCompletions()
    }
    say("acked")
    while true { pause() }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "bench": bench(Array(arguments.dropFirst()))
case "open" where arguments.count == 2:
    openStore(arguments[1]).close()
    say("ok")
case "hold" where arguments.count == 2: hold(arguments[1])
case "durable" where arguments.count == 4: durable(arguments[1], group: arguments[2], sub: arguments[3])
default:
    fail("usage: circle-store bench [--events N --rooms N --size B --per-turn N --snapshot-every N --dir DIR] | "
         + "open DIR | hold DIR | durable DIR GROUP SUB")
}
