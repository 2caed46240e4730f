import Foundation
import Testing

/// The real `circle` binary serving TLS, against real clients: `openssl s_client`, `curl` and Python's `websockets`.
@Suite(.serialized) struct TLSProcessTests {
    private func start() throws -> (CircleProcess, TLSFiles) {
        let files = try TLSFiles.shared()
        let server = try CircleProcess(arguments: ["--conformance-echo", "--log-level", "debug", "--tls-port", "0",
                                                   "--tls-cert", files.chain(.a), "--tls-key", files.key(.a)])
        try #require(server.port > 0 && server.tlsPort > 0 && server.port != server.tlsPort, "no ports in the log")
        return (server, files)
    }

    private func stop(_ server: CircleProcess) -> String {
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        return server.log()
    }

    @Test func opensslClientNegotiatesTLS13WithALPNAndTLS11IsRefused() throws {
        let (server, files) = try start()
        let address = "127.0.0.1:\(server.tlsPort)"
        let tls13 = try runTool("openssl", ["s_client", "-connect", address, "-alpn", "http/1.1", "-tls1_3",
                                            "-CAfile", files.ca(.a), "-verify_return_error"], allowFailure: true)
        #expect(tls13.status == 0, "\(tls13.output)")
        #expect(tls13.output.contains("ALPN protocol: http/1.1"))
        #expect(tls13.output.contains("TLSv1.3"))
        #expect(tls13.output.contains("Verify return code: 0 (ok)"))
        let tls11 = try runTool("openssl", ["s_client", "-connect", address, "-tls1_1"], allowFailure: true)
        #expect(tls11.status != 0)
        #expect(!tls11.output.contains("Cipher is TLS") && !tls11.output.contains("Cipher is ECDHE"))
        let log = stop(server)
        #expect(log.contains("tls handshake failed conn="))
    }

    @Test func curlGetsHealthzOverHTTPSAndPlainHTTPAtOnce() throws {
        let (server, files) = try start()
        let https = try runTool("curl", ["-sS", "--max-time", "10", "--cacert", files.ca(.a),
                                         "https://127.0.0.1:\(server.tlsPort)/healthz"])
        #expect(https.output == "ok\n")
        let http = try runTool("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(server.port)/healthz"])
        #expect(http.output == "ok\n")
        _ = stop(server)
    }

    @Test func pythonWebsocketsEchoesOverWSS() throws {
        let (server, files) = try start()
        let script = """
            import asyncio, ssl, sys, websockets
            async def main():
                context = ssl.create_default_context(cafile=sys.argv[1])
                async with websockets.connect(sys.argv[2], ssl=context, max_size=None) as ws:
                    for n in (0, 126, 65536, 1 << 20):
                        payload = bytes(i % 251 for i in range(n))
                        await ws.send(payload)
                        assert await ws.recv() == payload, n
                    await ws.send("héllo")
                    assert await ws.recv() == "héllo"
                print("echoed")
            asyncio.run(main())
            """
        let result = try runTool("python3", ["-c", script, files.ca(.a), "wss://127.0.0.1:\(server.tlsPort)/echo"],
                                 allowFailure: true)
        #expect(result.status == 0 && result.output.contains("echoed"), "\(result.output)")
        _ = stop(server)
    }

    @Test func sighupReloadsTheCertificate() throws {
        let (server, files) = try start()
        let curl = ["-sS", "--max-time", "10", "--cacert", files.ca(.a), "https://127.0.0.1:\(server.tlsPort)/healthz"]
        // An answer means the loop runs, so the signal handlers are in place.
        #expect(try runTool("curl", curl).output == "ok\n")
        kill(server.process.processIdentifier, SIGHUP)
        #expect(try runTool("curl", curl).output == "ok\n")
        #expect(server.process.isRunning)
        let log = stop(server)
        #expect(log.contains("tls reloaded"))
    }
}
