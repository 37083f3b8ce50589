import Testing

@testable import BotrixCLI

@Suite("Malloc arenas")
struct MallocArenasTests {
    @Test("serve's arena cap reaches glibc: mallopt is found and accepts M_ARENA_MAX")
    func capIsAccepted() {
        // mallopt answers 0 for an option it does not know: a wrong constant fails here.
        #expect(MallocArenas.limit())
    }
}
