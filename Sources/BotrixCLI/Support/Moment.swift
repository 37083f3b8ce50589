import ArgumentParser
import EventLog

/// A point in the log given as a sequence number or an RFC 3339 time, as `--as-of`,
/// `--since` and `--until` accept.
enum Moment: ExpressibleByArgument, Equatable {
    case sequence(UInt64)
    case time(Int64)

    init?(argument: String) {
        if let sequence = UInt64(argument) {
            self = .sequence(sequence)
        } else if let time = Timestamp.parse(argument) {
            self = .time(time)
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// `--format jsonl|table`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, table, json
}

/// Pads cells into aligned columns for people.
struct Table {
    var rows: [[String]] = []

    mutating func add(_ cells: String...) { rows.append(cells) }

    func render() -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { column in
            rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
