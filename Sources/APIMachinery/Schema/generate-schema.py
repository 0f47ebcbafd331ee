#!/usr/bin/env python3
"""Writes TypeSchema+Tables.swift: the field numbers, JSON names and types of the
Kubernetes messages the API server decodes (protobuf bodies) and validates (unknown fields, types), read from Kubernetes' generated.proto
files (the wire schema; no code is taken from them). With --definitions, writes
TypeSchema+Definitions.swift instead: the facts openapi-gen reads from the Go types, which
generated.proto carries as comments: per message its proto package, doc comment and fields in
declared order (Go struct order), per field its doc comment and the markers `+optional`,
`+listType`, `+listMapKey`, `+patchMergeKey`, `+patchStrategy`, `+mapType`, `+structType`,
`+default` (for the OpenAPI documents and, later, structured merge).

Usage: generate-schema.py API_REPO APIMACHINERY_REPO > TypeSchema+Tables.swift
       generate-schema.py --definitions API_REPO APIMACHINERY_REPO > TypeSchema+Definitions.swift
where the repositories are checkouts (or bare clones: files are read with `git show`) of
k8s.io/api and k8s.io/apimachinery at the Kubernetes version served.
"""
import json, os, re, subprocess, sys

DEFINITIONS = "--definitions" in sys.argv[1:]
API, MACHINERY = [argument for argument in sys.argv[1:] if argument != "--definitions"][:2]
FILES = [
    (API, "core/v1/generated.proto"), (API, "apps/v1/generated.proto"), (API, "batch/v1/generated.proto", "v0.32.9"),
    (API, "coordination/v1/generated.proto"), (API, "authentication/v1/generated.proto", "v0.32.9"), (API, "autoscaling/v1/generated.proto"),
    (API, "networking/v1/generated.proto"), (API, "events/v1/generated.proto"), (API, "discovery/v1/generated.proto", "v0.32.9"),
    (API, "policy/v1/generated.proto", "v0.32.9"), (API, "scheduling/v1/generated.proto", "v0.32.9"),
    (API, "storage/v1/generated.proto", "v0.32.9"),
    (MACHINERY, "pkg/apis/meta/v1/generated.proto"), (MACHINERY, "pkg/runtime/generated.proto"),
    (MACHINERY, "pkg/util/intstr/generated.proto"), (MACHINERY, "pkg/api/resource/generated.proto"),
]
# batch/v1 is read at the 1.32 release (a bare clone's tag): later revisions reference alpha
# scheduling.k8s.io messages (JobSchedulingConfiguration) that a 1.32 server does not serve;
# authentication/v1 too (later TokenRequestSpec has alpha `attestations`). networking/v1's
# Ingress and IngressClass messages are the same at HEAD and at 1.32; so are core/v1's
# ResourceQuota and LimitRange (issue 17). discovery/v1 (EndpointSlice) is read at 1.32 (later
# ones add hints.forNodes).
# policy/v1 (PodDisruptionBudget, and Eviction, which kubectl drain posts to pods/eviction) is read
# at the 1.32 release too; so is scheduling/v1 (PriorityClass).
# core/v1's ReplicationController and PodTemplate (issue 17) are the same at HEAD and at 1.32; so
# are PersistentVolume and PersistentVolumeClaim's spec (the claim's status gained a field after
# 1.32). storage/v1 (StorageClass) is read at the 1.32 release; its messages are prefixed
# (`storage.v1.`): it has a TokenRequest of its own.
# Messages of these files are named with a prefix: their names are also core/v1's (events.k8s.io's
# Event and EventSeries, discovery.k8s.io's EndpointPort, whose field numbers differ from core/v1's),
# and the server looks them up by group (`events.v1.Event`, `discovery.v1.EndpointSlice`).
PREFIXES = {"events/v1/generated.proto": "events.v1.", "discovery/v1/generated.proto": "discovery.v1.",
            "storage/v1/generated.proto": "storage.v1."}
ROOTS = ["events.v1.Event", "Pod", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "Service", "Namespace", "ConfigMap", "Secret", "ServiceAccount",
         "Node", "Endpoints", "Event", "Lease", "Binding", "Scale", "DeleteOptions", "TokenRequest",
         "Ingress", "IngressClass", "ControllerRevision", "discovery.v1.EndpointSlice", "TokenReview", "ResourceQuota", "LimitRange",
         "PodDisruptionBudget", "Eviction", "ReplicationController", "PodTemplate", "PriorityClass",
         "PersistentVolume", "PersistentVolumeClaim", "storage.v1.StorageClass"]
# Decoded natively by ProtobufDecoder.
NATIVE = {"Time", "MicroTime", "Duration", "IntOrString", "Quantity", "RawExtension", "FieldsV1", "Unknown"}
# Proto field names whose JSON name differs (the Go field's `json` tag).
JSON_NAMES = {("BoundObjectReference", "uID"): "uid", ("IngressClassParametersReference", "aPIGroup"): "apiGroup"}
SCALARS = {"string": "s", "int32": "i", "int64": "i", "bool": "b", "bytes": "y", "double": "d", "float": "f"}

def read(repo, path, rev="HEAD"):
    if os.path.isdir(os.path.join(repo, ".git")) or not os.path.exists(os.path.join(repo, path)):
        return subprocess.run(["git", "-C", repo, "show", rev + ":" + path], check=True, capture_output=True, text=True).stdout
    return open(os.path.join(repo, path)).read()

def list_go(repo, directory, rev="HEAD"):
    """The Go sources of a package directory (not tests, not generated code)."""
    if os.path.isdir(os.path.join(repo, ".git")) or not os.path.isdir(os.path.join(repo, directory)):
        names = subprocess.run(["git", "-C", repo, "ls-tree", "--name-only", rev + ":" + directory], check=True,
                               capture_output=True, text=True).stdout.split()
    else:
        names = os.listdir(os.path.join(repo, directory))
    return [directory + "/" + name for name in sorted(names)
            if name.endswith(".go") and not name.endswith("_test.go") and not name.startswith(("generated.", "zz_generated"))]

def go_facts(repo, directory, rev, prefix):
    """What openapi-gen reads from the Go types that generated.proto does not carry: the
    (struct, JSON name) of fields whose json tag has omitempty (optional even without the
    +optional marker: kube-openapi's hasOptionalTag), each field's Go type, and the `+enum`
    string types with their constants (value, doc comment)."""
    omitempty, types, enums = set(), {}, {}
    for path in list_go(repo, directory, rev):
        current, comment, enum_next = None, [], False
        for line in read(repo, path, rev).splitlines():
            stripped = line.strip()
            if stripped.startswith("//"):
                comment.append(stripped[2:].strip())
                continue
            start = re.match(r"^type (\w+) struct \{", line)
            named = re.match(r"^type (\w+) string\b", line)
            constant = re.match(r'^\s+(\w+)\s+(\w+)\s*=\s*"([^"]*)"', line)
            if start:
                current = prefix + start.group(1)
            elif named and "+enum" in comment:
                enums.setdefault(named.group(1), [])
            elif line.startswith("}"):
                current = None
            elif current:
                tag = re.search(r'json:"([^"]*)"', line)
                # `Name Type`, `Name *Type` or an embedded `pkg.Type`; slices and maps do not match.
                field = re.match(r"^\s+(?:\w+\s+)?(\*?)([\w.]+)\s+`", line)
                if tag:
                    name = tag.group(1).split(",")[0]
                    if ",omitempty" in tag.group(1):
                        omitempty.add((current, name))
                    if field:
                        types[(current, name)] = (field.group(2).split(".")[-1], field.group(1) == "*")
            elif constant:
                enums.setdefault(("const", constant.group(2)), []).append((constant.group(3), " ".join(c for c in comment if c)))
            comment = []
    return omitempty, types, enums

messages = {}
omitempty, go_types, enum_types, constants = set(), {}, set(), {}
# For --definitions: message → (proto package, doc comment lines), and its fields in declared
# order as (JSON name, type, repeated, map, doc comment lines).
documents, declared = {}, {}
field_re = re.compile(r"^\s*(optional|repeated)?\s*(map<\s*(\w+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)")
for repo, path, *rev in FILES:
    current = None
    prefix = PREFIXES.get(path, "")
    text = read(repo, path, *rev)
    if DEFINITIONS:
        found_omitempty, found_types, found_enums = go_facts(repo, os.path.dirname(path), (rev or ["HEAD"])[0], prefix)
        omitempty |= found_omitempty
        go_types.update(found_types)
        for key, values in found_enums.items():
            if isinstance(key, tuple):
                constants.setdefault(key[1], []).extend(values)
            else:
                enum_types.add(key)
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    local = set(re.findall(r"^message (\w+) \{", text, re.M)) if prefix else set()
    comment = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            # go-to-protobuf writes each Go comment line as "// " + line.
            body = stripped[2:]
            comment.append(body[1:] if body.startswith(" ") else body)
            continue
        line = line.split("//")[0]
        start = re.match(r"^message (\w+) \{", line)
        if start:
            current = prefix + start.group(1)
            # A name defined twice (`List`, `Preconditions`): apimachinery's, read last, wins.
            messages[current] = []
            documents[current] = (package, comment)
            declared[current] = []
            comment = []
            continue
        if line.startswith("}"):
            current = None
            comment = []
            continue
        match = field_re.match(line)
        if current and match:
            label, typ, key, value, name, number = match.groups()
            kind = ("map", key, value.split(".")[-1]) if typ.startswith("map<") else typ.split(".")[-1]
            if prefix and not isinstance(kind, tuple) and "." not in typ and kind in local:
                kind = prefix + kind  # a message of the same file
            if prefix and isinstance(kind, tuple) and "." not in value and kind[2] in local:
                kind = ("map", key, prefix + kind[2])
            name = JSON_NAMES.get((current, name), name)
            messages[current].append((int(number), name, kind, label == "repeated"))
            declared[current].append((name, kind, label == "repeated", comment))
        if not stripped.startswith("//"):
            comment = []

def code(type_name):
    return SCALARS.get(type_name, type_name)

reachable, queue = [], list(ROOTS)
while queue:
    name = queue.pop(0)
    if name in reachable or name in NATIVE:
        continue
    if name not in messages:
        sys.exit(f"message {name} not found")
    reachable.append(name)
    for _, _, kind, _ in messages[name]:
        targets = [kind[2]] if isinstance(kind, tuple) else [kind]
        queue += [t for t in targets if t not in SCALARS]

def doc(lines):
    """A comment as openapi-gen turns it into a description (kube-openapi's fmtRawDoc): text
    after a `---` line dropped, marker (`+...`) and one-line TODO lines dropped, lines joined
    with spaces, blank lines kept as paragraph breaks, indented lines kept on lines of their own."""
    text = "\n".join(lines).split("---")[0]
    out = ""
    for line in text.split("\n"):
        line = line.rstrip(" ")
        leading = line.lstrip(" ")
        if not line:
            out = out[:-1] + "\n\n"
        elif leading.startswith("TODO") or leading.startswith("+"):
            continue
        elif line.startswith(" ") or line.startswith("\t"):
            out = out[:-1] + "\n" + line + "\n"
        else:
            out += line + " "
    return out.strip("\n").strip(" ").strip("\n")

def markers(lines):
    found = {}
    for line in lines:
        line = line.strip()
        if line.startswith("+"):
            key, _, value = line[1:].partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found

def definitions():
    """One JSON object per line: a message's OpenAPI facts (see TypeSchema+Definitions.swift)."""
    # What the documents describe besides the served kinds: their lists, and the meta/v1
    # types every group-version serves (kube-apiserver's Status, DeleteOptions, WatchEvent,
    # Patch, the PATCH body).
    roots = ROOTS + [name + "List" for name in ROOTS if name + "List" in messages] + ["Status", "WatchEvent", "DeleteOptions", "Patch"]
    closure, queue = [], list(roots)
    while queue:
        name = queue.pop(0)
        if name in closure:
            continue
        if name not in messages:
            sys.exit(f"message {name} not found")
        closure.append(name)
        if name in NATIVE:
            continue
        for _, _, kind, _ in messages[name]:
            targets = [kind[2]] if isinstance(kind, tuple) else [kind]
            queue += [t for t in targets if t not in SCALARS]
    lines = []
    for name in sorted(closure):
        package, comment = documents[name]
        found = markers(comment)
        entry = {"name": name, "package": package, "description": doc(comment)}
        if name in ROOTS or name == "Status" or (name.endswith("List") and name[:-4] in ROOTS):
            entry["kind"] = True  # a top-level kind: its Go struct embeds TypeMeta
        for key in ("structType", "mapType"):
            if key in found:
                entry["mapType"] = found[key][-1]
        # A Go slice type wrapped for protobuf (`type ExtraValue []string`): JSON is the array.
        fields_ = declared.get(name, [])
        if "protobuf.nullable" in found and len(fields_) == 1 and fields_[0][0] == "items" and fields_[0][2]:
            entry["arrayOf"] = fields_[0][1]
        fields = []
        for field, kind, repeated, lines_ in ([] if name in NATIVE else declared[name]):
            found = markers(lines_)
            item = {"name": field, "type": kind[2] if isinstance(kind, tuple) else kind, "description": doc(lines_)}
            if repeated:
                item["repeated"] = True
            if isinstance(kind, tuple):
                item["map"] = True
            # openapi-gen (1.32): a field is required unless marked optional or its json tag has
            # omitempty. Later revisions mark some omitempty fields `+required` (Deployment.spec)
            # without a 1.32 server requiring them: the omitempty rule wins.
            optional = "optional" in found or "k8s:optional" in found or (name, field) in omitempty
            if not optional:
                item["required"] = True
            for key, alias in (("listType", "k8s:listType"), ("patchMergeKey", None), ("patchStrategy", None), ("mapType", None)):
                values = found.get(key) or (found.get(alias) if alias else None)
                if values:
                    item[key] = values[-1]
            keys = found.get("listMapKey") or found.get("k8s:listMapKey")
            if keys:
                item["listMapKeys"] = keys
            # A `+enum` Go string type: its constants are the values, listed in the
            # description as openapi-gen does (kube-openapi's enumType.DescriptionLines).
            go_type, pointer = go_types.get((name, field), (None, True))
            if go_type in enum_types and constants.get(go_type):
                values = sorted(set(constants[go_type]))
                item["enum"] = [value for value, _ in values]
                lines_out = ["Possible enum values:"] + [" - `%s`%s" % (json.dumps(value), (" " + text) if text else "")
                                                          for value, text in values]
                item["description"] = (item["description"] + "\n\n" if item["description"] else "") + "\n".join(lines_out)
            if "default" in found:
                try:
                    item["default"] = json.loads(found["default"][-1])  # literals only, not ref(Go constant)
                except ValueError:
                    pass
            # Otherwise the zero value Go always writes (kube-openapi's mustEnforceDefault): {} for
            # a struct that is not a pointer, the scalar's zero for a field without omitempty;
            # none for pointers, slices, maps and the types with their own JSON form.
            if "default" not in item and go_type and not pointer and not repeated and not isinstance(kind, tuple):
                if kind in SCALARS and (name, field) not in omitempty:
                    item["default"] = {"string": "", "bool": False}.get(kind, 0) if kind != "bytes" else None
                    if item["default"] is None:
                        del item["default"]
                elif kind not in SCALARS and kind not in NATIVE and not (name in NATIVE):
                    item["default"] = {}
            fields.append(item)
        entry["fields"] = fields
        lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    body = "\n".join(lines)
    if '"""##' in body or "\\##" in body:
        sys.exit("a description holds the string literal's delimiter")
    print("// Generated by generate-schema.py --definitions from Kubernetes' generated.proto files; do not edit.")
    print("// One message per line, as JSON: name, package, description, mapType, fields in declared order")
    print("// (name, type, repeated, map, description, required, listType, listMapKeys, patchMergeKey,")
    print("// patchStrategy, mapType, default). Parsed once, on first use, by TypeSchema.definition(of:).")
    print("extension TypeSchema {")
    print('    static let definitionsText = ##"""')
    print(body)
    print('"""##')
    print("}")

if DEFINITIONS:
    definitions()
    sys.exit(0)

print("// Generated by generate-schema.py from Kubernetes' generated.proto files; do not edit.")
print("// One message per line: `Name field:jsonName:type[:r]...` (r: repeated; m<K,V>: map).")
print("extension TypeSchema {")
print('    static let table = """')
for name in sorted(reachable):
    parts = []
    for number, field, kind, repeated in sorted(messages[name]):
        typ = "m<%s,%s>" % (code(kind[1]), code(kind[2])) if isinstance(kind, tuple) else code(kind)
        parts.append("%d:%s:%s%s" % (number, field, typ, ":r" if repeated else ""))
    print("        " + name + " " + " ".join(parts))
print('        """')
print("}")
