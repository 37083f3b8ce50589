import Testing

@testable import BotrixCLI

@Suite("Malloc arenas")
struct MallocArenasTests {
    @Test("serve's arena cap reaches glibc: mallopt is found by name and called")
    func capIsApplied() {
        // glibc's mallopt answers 1 even for options it does not know, so this proves the
        // lookup and the call, not the constant: tools/memory-bench.sh shows the effect.
        #expect(MallocArenas.limit())
    }
}
