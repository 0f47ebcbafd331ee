/// Kubernetes' `$(VAR)` expansion for command, args and env values
/// (kubernetes third_party/forked/golang/expansion): `$(NAME)` becomes the variable's value
/// when it is defined and stays as written otherwise; `$$` is an escaped `$`.
public enum VariableExpansion {
    public static func expand(_ input: String, _ lookup: (String) -> String?) -> String {
        guard input.contains("$") else { return input }
        var output = ""
        let chars = Array(input)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                output.append(c)
                i += 1
                continue
            }
            let next = chars[i + 1]
            if next == "$" {
                output.append("$")
                i += 2
            } else if next == "(", let close = chars[(i + 2)...].firstIndex(of: ")") {
                let name = String(chars[(i + 2)..<close])
                if let value = lookup(name) {
                    output += value
                } else {
                    output += "$(" + name + ")"
                }
                i = close + 1
            } else {
                output.append(c)
                i += 1
            }
        }
        return output
    }
}
