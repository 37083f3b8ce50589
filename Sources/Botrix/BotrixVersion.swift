/// The version Botrix reports in `/health` and `botrix --version`.
public enum BotrixVersion {
    public static let current = "0.1.0"
}
