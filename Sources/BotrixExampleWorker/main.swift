// botrix-example-worker: a Botrix worker that does fake work — it sleeps, then records
// made-up accounts (user-123456789@example.invalid, …). It contacts nothing but the
// Botrix server. The Swift twin of clients/python/examples/fake_worker.py.
//
//   BOTRIX_URL=http://127.0.0.1:8080 WORKER_ID=fake-1 botrix-example-worker
//
// SIGTERM or Ctrl-C: the account in hand is recorded, the job is released (or completed
// when it has all its accounts) and the process exits 0.
import Foundation

let status = await ExampleWorker.main()
exit(status)
