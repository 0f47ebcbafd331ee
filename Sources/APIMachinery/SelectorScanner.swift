/// A tiny cursor over selector text.
struct SelectorScanner {
    private let characters: [Character]
    private var index = 0

    init(_ text: String) {
        self.characters = Array(text)
    }

    var atEnd: Bool { index >= characters.count }

    var rest: String { String(characters[min(index, characters.count)...]) }

    mutating func skipSpaces() {
        while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 }
    }

    func peek(_ token: String) -> Bool {
        let token = Array(token)
        guard index + token.count <= characters.count else { return false }
        return Array(characters[index..<(index + token.count)]) == token
    }

    mutating func consume(_ token: String) -> Bool {
        guard peek(token) else { return false }
        index += token.count
        return true
    }

    /// Characters up to a space, comma, operator or parenthesis.
    mutating func word() -> String {
        let start = index
        while index < characters.count, !" \t,=!()<>".contains(characters[index]) { index += 1 }
        return String(characters[start..<index])
    }
}
