public import Botrix
public import Hummingbird

/// The request context of every route: limits bodies to 256 KiB (413 beyond) and
/// carries the request id that is echoed, logged and stored in event metadata.
public struct BotrixRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-ID` as received (when acceptable) or generated.
    public var requestID: String = ""
    /// The API key that authenticated the request (nil in open mode and on open routes).
    public var apiKey: APIKey?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies larger than this get 413 before they are read whole.
    public var maxUploadSize: Int { 256 * 1024 }
}
