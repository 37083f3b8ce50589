import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LMDB
import Storage
import Testing

@testable import Botrix

/// How the API answers storage failures injected at the LMDB boundary: nothing written,
/// the right status, reads and health still answering, and writes back once it clears.
@Suite("Storage failures over HTTP")
struct StorageFailureRouteTests {
    @Test("out of space: 507 problem+json, readiness failing with the reason, reads fine, writes back after")
    func outOfSpace() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            #expect(try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).status == .created)
            let head = h.head
            let started = ContinuousClock.now
            h.store.environment.faults.arm(.commit, times: 3, code: 28)  // ENOSPC
            for _ in 0..<3 {
                let refused = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
                #expect(refused.status.code == 507, "\(refused.text)")
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(refused.headers[.retryAfter] != nil)
                #expect(refused.body?["type"] as? String == "/problems/insufficient-storage")
            }
            #expect(h.head == head)
            let ready = try await client.call(.get, "/health/ready")
            let writer = (ready.body?["checks"] as? [String: Any])?["writer"] as? [String: Any]
            // Not ready for 10 s after a failure (then ready again, to let traffic prove the
            // disk); a loaded machine may take longer than that to get here.
            if ContinuousClock.now - started < .seconds(9) {
                #expect(ready.status == .serviceUnavailable)
                #expect(writer?["status"] as? String == "failing")
            }
            #expect(writer?["out_of_space"] as? Bool == true)
            #expect(writer?["consecutive_failures"] as? Int == 3)
            #expect((writer?["reason"] as? String)?.isEmpty == false)
            #expect(try await client.call(.get, "/api/jobs").status == .ok)
            #expect(try await client.call(.get, "/health/live").status == .ok)
            let metrics = try await client.call(.get, "/metrics").text
            #expect(metrics.contains("botrix_writer_writable"), "\(metrics)")
            #expect(metrics.contains("botrix_writer_oldest_waiting_seconds"))
            // The failure clears by itself: the next write succeeds and readiness returns.
            #expect(try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).status == .created)
            #expect(try await client.call(.get, "/health/ready").status == .ok)
        }
    }

    @Test("an I/O error: 503 with Retry-After and a detail without LMDB's raw message")
    func ioError() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            h.store.environment.faults.arm(.put, code: 5)  // EIO
            let refused = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(refused.body?["type"] as? String == "/problems/storage-unavailable")
            #expect(!refused.text.contains("LMDB"), "\(refused.text)")
            #expect(h.head == 0)
        }
    }

    @Test("a fatal LMDB error: every write refused until restart, readiness says fatal")
    func fatal() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            h.store.environment.faults.arm(.commit, code: -30795)  // MDB_PANIC
            #expect(try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).status == .serviceUnavailable)
            #expect(h.store.environment.fatalError != nil)
            let again = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
            #expect(again.status == .serviceUnavailable)
            #expect(again.body?["type"] as? String == "/problems/storage-failed")
            let ready = try await client.call(.get, "/health/ready")
            let writer = (ready.body?["checks"] as? [String: Any])?["writer"] as? [String: Any]
            #expect(ready.status == .serviceUnavailable && writer?["status"] as? String == "fatal")
            #expect(h.head == 0)
        }
    }
}
