public import LMDB
public import Storage

extension StorageEngine {
    /// The LMDB backend's fault injector, for tests that make a commit or a put fail. Every
    /// store in the tests is an LMDB file; another backend would bring its own injector.
    public var faults: FaultInjector {
        guard let environment = self as? Environment else {
            preconditionFailure("fault injection is implemented by the LMDB backend only")
        }
        return environment.faults
    }
}
